// bench_tfjs.js: the TensorFlow.js side of the /bench page. ui/bench_js.go
// embeds this file and evaluates it once (jsutil.Eval) as a function of
// the URLs of TensorFlow.js's scripts (tf.min.js, tf-backend-webgpu.min.js
// under /web/vendor/); the function returns the measurements of
// engine/bench on tfjs's WebGPU backend: matmul, an MAE training step and
// a single-image forward, built from tfjs ops with the shapes of a Hugging
// Face ViTMAE config (patch embedding, encoder blocks with multi-head
// attention, the decoder with mask tokens and unshuffling, masked MSE with
// optional norm_pix_loss, Adam with betas (0.9, 0.95), gradients by
// tf.variableGrads). load() adds the scripts to the page (once) and must
// come first; every entry point takes its arguments as one JSON array and
// returns a promise of JSON text: init's {backend}, the others' a result
// with the fields of engine/bench's Result.
(scripts) => {
  'use strict';
  let tf = null;
  let adapter = '';
  const backendName = () => `tfjs ${tf.version.tfjs} ${tf.getBackend()}${adapter ? ': ' + adapter : ''}`;

  // addScript loads one script into the page.
  const addScript = (src) => new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => ok();
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });

  async function load() {
    if (!window.tf) {
      for (const src of scripts) await addScript(src);
    }
    tf = window.tf;
    if (!tf) throw new Error('TensorFlow.js did not define window.tf');
    return {};
  }

  // init starts tfjs's backend: webgpu, or wasm (tf-backend-wasm.min.js
  // and its .wasm files, beside tf.min.js; SIMD, and threads only on a
  // cross-origin isolated page, which this one is not).
  async function init(backend = 'webgpu') {
    if (!tf) throw new Error('TensorFlow.js is not loaded (call load first)');
    if (backend === 'wasm' && !tf.wasm) {
      const dir = scripts[0].replace(/[^/]*$/, '');
      await addScript(dir + 'tf-backend-wasm.min.js');
      if (!tf.wasm) throw new Error('tfjs: tf-backend-wasm.min.js did not define tf.wasm');
      tf.wasm.setWasmPaths(dir);
    }
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`tfjs: the ${backend} backend did not initialise`);
    await tf.ready();
    if (backend === 'wasm') {
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return { backend: backendName(), note: `SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}` };
    }
    try {
      const a = tf.backend().adapterInfo;
      if (a) adapter = [a.vendor, a.architecture].filter(Boolean).join(' ');
    } catch (e) { /* no adapter info in this version */ }
    return { backend: backendName() };
  }

  // timeUntil mirrors engine/bench: one warm-up, then at least minReps
  // repetitions and minMs milliseconds, each followed by a sync.
  async function timeUntil(run, minReps, minMs) {
    await run();
    const t0 = performance.now();
    let reps = 0;
    while (reps < minReps || performance.now() - t0 < minMs) {
      await run();
      reps++;
    }
    return { reps, ms: performance.now() - t0 };
  }

  // sync reads one element of t (what engine/bench reads too).
  async function sync(t) {
    const one = tf.tidy(() => t.reshape([-1]).slice(0, 1));
    await one.data();
    one.dispose();
  }

  async function matmul(n, minMs) {
    const rnd = () => tf.randomUniform([n, n], -0.5, 0.5, 'float32', n);
    const a = rnd(), b = rnd();
    const r = await timeUntil(async () => {
      const c = tf.matMul(a, b);
      await sync(c);
      c.dispose();
    }, 3, minMs);
    a.dispose(); b.dispose();
    const flops = 2 * n * n * n * r.reps;
    return { backend: backendName(), name: 'matmul', shape: `${n}x${n}x${n}`, value: flops / (r.ms / 1000) / 1e9,
      unit: 'GFLOP/s', reps: r.reps, seconds: r.ms / 1000 };
  }

  // --- the MAE from tfjs ops

  // A seeded generator for the masking and the parameters (xorshift).
  function rng(seed) {
    let s = seed >>> 0 || 1;
    return () => { s ^= s << 13; s >>>= 0; s ^= s >> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  }

  // sincos2d is the fixed 2-D sin-cos position embedding of DESIGN.md,
  // (1 + g*g) x d with a zero CLS row.
  function sincos2d(d, g) {
    const out = new Float32Array((1 + g * g) * d);
    const q = d / 4;
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const row = (1 + i * g + j) * d;
        for (let k = 0; k < q; k++) {
          const w = 1 / Math.pow(10000, k / q);
          out[row + k] = Math.sin(j * w);
          out[row + q + k] = Math.cos(j * w);
          out[row + 2 * q + k] = Math.sin(i * w);
          out[row + 3 * q + k] = Math.cos(i * w);
        }
      }
    }
    return tf.tensor2d(out, [1 + g * g, d]);
  }

  function makeParams(cfg, seed) {
    const r = rng(seed);
    const vars = [];
    const v = (shape, scale) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = scale === 0 ? 0 : (r() * 2 - 1) * scale;
      const t = tf.variable(tf.tensor(data, shape));
      vars.push(t);
      return t;
    };
    const ones = (n) => { const t = tf.variable(tf.ones([n])); vars.push(t); return t; };
    const xavier = (i, o) => v([i, o], Math.sqrt(6 / (i + o)));
    const block = (d, hid) => ({
      ln1g: ones(d), ln1b: v([d], 0), qkvW: xavier(d, 3 * d), qkvB: v([3 * d], 0),
      projW: xavier(d, d), projB: v([d], 0), ln2g: ones(d), ln2b: v([d], 0),
      fc1W: xavier(d, hid), fc1B: v([hid], 0), fc2W: xavier(hid, d), fc2B: v([d], 0),
    });
    const D = cfg.hidden_size, Dd = cfg.decoder_hidden_size, P = cfg.patch_size, C = cfg.num_channels;
    const PD = P * P * C, g = cfg.image_size / P;
    const p = {
      patchW: xavier(PD, D), patchB: v([D], 0), cls: v([1, 1, D], 0.02),
      enc: Array.from({ length: cfg.num_hidden_layers }, () => block(D, cfg.intermediate_size)),
      normG: ones(D), normB: v([D], 0),
      decW: xavier(D, Dd), decB: v([Dd], 0), maskToken: v([1, 1, Dd], 0.02),
      dec: Array.from({ length: cfg.decoder_num_hidden_layers }, () => block(Dd, cfg.decoder_intermediate_size)),
      decNormG: ones(Dd), decNormB: v([Dd], 0),
      predW: xavier(Dd, PD), predB: v([PD], 0),
      pos: sincos2d(D, g), decPos: sincos2d(Dd, g), // frozen: constants
    };
    return { p, vars };
  }

  function layerNorm(x, g, b, eps) {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(g).add(b);
  }

  // linear: x (..., in) W (in, out) + b
  function linear(x, W, b) {
    const shape = x.shape;
    const y = tf.matMul(x.reshape([-1, shape[shape.length - 1]]), W).add(b);
    return y.reshape([...shape.slice(0, -1), W.shape[1]]);
  }

  const gelu = (x) => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);

  function attention(x, w, heads) {
    const [B, T, d] = x.shape;
    const hd = d / heads;
    const qkv = linear(x, w.qkvW, w.qkvB).reshape([B, T, 3, heads, hd]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(qkv, 0); // (B, H, T, hd)
    const probs = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)), -1);
    const o = tf.matMul(probs, v).transpose([0, 2, 1, 3]).reshape([B, T, d]);
    return linear(o, w.projW, w.projB);
  }

  function block(x, w, heads, eps) {
    const mid = x.add(attention(layerNorm(x, w.ln1g, w.ln1b, eps), w, heads));
    const h = gelu(linear(layerNorm(mid, w.ln2g, w.ln2b, eps), w.fc1W, w.fc1B));
    return mid.add(linear(h, w.fc2W, w.fc2B));
  }

  function patchify(images, cfg) {
    const [B, C, S] = images.shape;
    const P = cfg.patch_size, g = S / P;
    return images.reshape([B, C, g, P, g, P]).transpose([0, 2, 4, 3, 5, 1]).reshape([B, g * g, P * P * C]);
  }

  // masking returns flat gather indices: keep (B*K) into (B*L) rows, and
  // restore (B*L) into the (B*L) rows of [kept tokens | mask tokens], and
  // the mask (B, L), 1 for removed patches.
  function masking(B, L, K, seed) {
    const r = rng(seed);
    const keep = new Int32Array(B * K), restore = new Int32Array(B * L), mask = new Float32Array(B * L);
    for (let b = 0; b < B; b++) {
      const noise = Array.from({ length: L }, (_, i) => [r(), i]).sort((x, y) => x[0] - y[0]);
      const shuffle = noise.map((x) => x[1]);
      for (let i = 0; i < L; i++) {
        const pos = shuffle[i]; // the i-th token in shuffled order is patch pos
        if (i < K) {
          keep[b * K + i] = b * L + pos;
          restore[b * L + pos] = b * K + i;
        } else {
          mask[b * L + pos] = 1;
          restore[b * L + pos] = B * K + b * (L - K) + (i - K);
        }
      }
    }
    return { keep: tf.tensor1d(keep, 'int32'), restore: tf.tensor1d(restore, 'int32'), mask: tf.tensor2d(mask, [B, L]) };
  }

  // forward returns [loss, prediction (B, L, PD)].
  function forward(p, cfg, images, mk) {
    const B = images.shape[0];
    const P = cfg.patch_size, C = cfg.num_channels, PD = P * P * C;
    const L = (cfg.image_size / P) ** 2, K = mk.keep.shape[0] / B;
    const D = cfg.hidden_size, Dd = cfg.decoder_hidden_size, eps = cfg.layer_norm_eps;
    const patches = patchify(images, cfg);
    let x = linear(patches, p.patchW, p.patchB).add(p.pos.slice([1, 0], [L, D]));
    x = tf.gather(x.reshape([B * L, D]), mk.keep).reshape([B, K, D]);
    const cls = p.cls.add(p.pos.slice([0, 0], [1, D])).tile([B, 1, 1]);
    x = tf.concat([cls, x], 1);
    for (const w of p.enc) x = block(x, w, cfg.num_attention_heads, eps);
    x = layerNorm(x, p.normG, p.normB, eps);

    let z = linear(x, p.decW, p.decB); // (B, 1+K, Dd)
    const zCls = z.slice([0, 0, 0], [B, 1, Dd]);
    const zTok = z.slice([0, 1, 0], [B, K, Dd]).reshape([B * K, Dd]);
    const masks = p.maskToken.reshape([1, Dd]).tile([B * (L - K), 1]);
    z = tf.gather(tf.concat([zTok, masks], 0), mk.restore).reshape([B, L, Dd]);
    z = tf.concat([zCls, z], 1).add(p.decPos);
    for (const w of p.dec) z = block(z, w, cfg.decoder_num_attention_heads, eps);
    z = layerNorm(z, p.decNormG, p.decNormB, eps);
    const pred = linear(z, p.predW, p.predB).slice([0, 1, 0], [B, L, PD]);

    let target = patches;
    if (cfg.norm_pix_loss) {
      const { mean, variance } = tf.moments(patches, -1, true);
      const unbiased = variance.mul(PD / (PD - 1));
      target = patches.sub(mean).div(unbiased.add(1e-6).sqrt());
    }
    const perPatch = pred.sub(target).square().mean(-1); // (B, L)
    const loss = perPatch.mul(mk.mask).sum().div(mk.mask.sum());
    return [loss, pred];
  }

  function setup(cfg, batch, seed) {
    const { p, vars } = makeParams(cfg, seed);
    const r = rng(seed + 1);
    const n = batch * cfg.num_channels * cfg.image_size * cfg.image_size;
    const img = new Float32Array(n);
    for (let i = 0; i < n; i++) img[i] = r() * 2 - 1;
    const images = tf.tensor4d(img, [batch, cfg.num_channels, cfg.image_size, cfg.image_size]);
    const L = (cfg.image_size / cfg.patch_size) ** 2;
    const K = Math.trunc(L * (1 - cfg.mask_ratio));
    return { p, vars, images, mk: masking(batch, L, K, seed + 2), L, K };
  }

  function dispose(s) {
    s.vars.forEach((v) => v.dispose());
    s.p.pos.dispose(); s.p.decPos.dispose();
    s.images.dispose();
    Object.values(s.mk).forEach((t) => t.dispose());
  }

  async function trainStep(cfg, preset, batch, minReps, minMs) {
    const s = setup(cfg, batch, 11);
    const opt = tf.train.adam(1e-4, 0.9, 0.95, 1e-8);
    const r = await timeUntil(async () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => forward(s.p, cfg, s.images, s.mk)[0], s.vars);
        opt.applyGradients(grads);
        return value;
      });
      await sync(loss);
      loss.dispose();
    }, minReps, minMs);
    opt.dispose();
    dispose(s);
    const ms = r.ms / r.reps;
    return { backend: backendName(), name: 'train_step', shape: `${preset} b=${batch}`, value: batch * r.reps / (r.ms / 1000),
      unit: 'images/s', reps: r.reps, seconds: r.ms / 1000, note: `${ms.toFixed(1)} ms/step; Adam (no weight decay), tf.variableGrads` };
  }

  async function reconstruct(cfg, preset, minReps, minMs) {
    const s = setup(cfg, 1, 12);
    const r = await timeUntil(async () => {
      const pred = tf.tidy(() => forward(s.p, cfg, s.images, s.mk)[1]);
      await pred.data(); // the whole prediction, as the UI reads it
      pred.dispose();
    }, minReps, minMs);
    dispose(s);
    return { backend: backendName(), name: 'reconstruct', shape: `${preset} b=1`, value: r.ms / r.reps, unit: 'ms',
      reps: r.reps, seconds: r.ms / 1000 };
  }

  // attention forward + backward at the decoder shape, as engine/bench.
  async function attentionFwdBwd(cfg, preset, batch, minMs) {
    const L = (cfg.image_size / cfg.patch_size) ** 2, T = 1 + L;
    const heads = cfg.decoder_num_attention_heads, d = cfg.decoder_hidden_size, hd = d / heads;
    const r0 = rng(5);
    const qkvData = new Float32Array(batch * T * 3 * d).map(() => r0() * 2 - 1);
    const qkv = tf.variable(tf.tensor(qkvData, [batch, T, 3 * d]));
    const dout = tf.randomNormal([batch, T, d], 0, 1, 'float32', 6);
    const f = () => {
      const x = qkv.reshape([batch, T, 3, heads, hd]).transpose([2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(x, 0);
      const probs = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)), -1);
      const o = tf.matMul(probs, v).transpose([0, 2, 1, 3]).reshape([batch, T, d]);
      return o.mul(dout).sum();
    };
    const r = await timeUntil(async () => {
      const g = tf.tidy(() => tf.variableGrads(f, [qkv]).grads[qkv.name].clone());
      await sync(g);
      g.dispose();
    }, 3, minMs);
    qkv.dispose(); dout.dispose();
    return { backend: backendName(), name: 'attention_fwd_bwd', shape: `${preset} decoder b=${batch} t=${T} heads=${heads} hd=${hd}`,
      value: r.ms / r.reps, unit: 'ms', reps: r.reps, seconds: r.ms / 1000 };
  }

  // Each entry point takes and returns JSON text (simple to call from Go).
  const wrap = (fn) => (json) => fn(...JSON.parse(json)).then((r) => JSON.stringify(r));
  return {
    load: wrap(load),
    init: wrap(init),
    matmul: wrap(matmul),
    trainStep: wrap(trainStep),
    reconstruct: wrap(reconstruct),
    attention: wrap(attentionFwdBwd),
  };
}
