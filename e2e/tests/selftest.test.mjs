// /selftest: the PyTorch parity check in the wasm build on the browser's
// WebGPU adapter (SwiftShader here) and on the CPU backend, and a
// randomly initialised `base` model (112M parameters, 448 MB of float32)
// reconstructing one image on WebGPU, its loss and prediction checked
// against the native CPU backend's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, shot, baseURL } from '../lib.mjs';

// Time budgets on the 2-core CI machine (SwiftShader): pipelines compile
// in ~25 s and the cases take ~3 s each on WebGPU, twice (with and without
// subgroups); the base model's init, upload and one forward pass take
// ~1.5 minutes.
const SELFTEST_MS = 420_000;
const BASE_MS = 600_000;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// result waits for the page's machine-readable outcome.
async function result(page, path, timeout) {
  const t0 = Date.now();
  await page.goto(baseURL + path);
  const sel = '[data-testid=selftest-result]:not([data-status=running])';
  await page.waitForSelector(sel, { state: 'attached', timeout });
  const r = JSON.parse(await page.textContent(sel));
  r.wallMs = Date.now() - t0;
  return r;
}

test('the six PyTorch reference cases pass on WebGPU (with and without subgroups) and on the CPU backend', { timeout: SELFTEST_MS + 30_000 }, async () => {
  const page = await open(browser);
  const r = await result(page, '/selftest', SELFTEST_MS);
  await shot(page, 'selftest');
  assert.ok(r.adapter && r.adapter.name, 'the WebGPU adapter is reported');
  console.log(`adapter: ${r.adapter.name} (${r.adapter.vendor || 'no vendor'}; maxStorageBufferBindingSize ${r.adapter.maxStorageBufferBindingSize}, maxBufferSize ${r.adapter.maxBufferSize})`);
  for (const c of r.cases) {
    console.log(`${c.ok ? 'pass' : 'FAIL'} ${c.backend} ${c.name} (${c.ms.toFixed(0)} ms)${c.error ? ': ' + c.error : ''}`);
    for (const l of [...(c.lines || []), ...(c.failures || [])]) console.log(`    ${l}`);
  }
  console.log(`selftest: ${r.status} in ${r.wallMs} ms`);
  // webgpu uses subgroup reductions where the adapter has the feature
  // (SwiftShader does); webgpu-plain forces the workgroup-memory ones.
  console.log(`subgroups: ${(r.adapter.features || []).includes('subgroups') ? 'yes' : 'no'}`);
  for (const backend of ['webgpu', 'webgpu-plain', 'cpu']) {
    const cases = r.cases.filter((c) => c.backend === backend);
    assert.deepEqual(cases.map((c) => c.name).sort(),
      ['mae_tiny.safetensors', 'mae_tiny.timm.safetensors', 'mae_tiny_normpix.safetensors', 'mae_tiny_normpix.timm.safetensors',
        'tutorial_mae.safetensors', 'tutorial_mae_identity.safetensors'],
      `${backend}: all six reference cases ran (four official, two of the tutorial's family)`);
    for (const c of cases) assert.ok(c.ok, `${backend} ${c.name}: ${c.error || (c.failures || []).join('; ')}`);
  }
  assert.equal(r.status, 'pass', r.error);
  assert.equal(await page.getAttribute('[data-testid=selftest-result]', 'data-status'), 'pass');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a random base model (112M parameters) reconstructs an image on WebGPU', { timeout: BASE_MS + 30_000 }, async () => {
  const page = await open(browser);
  // window=128: bind at most 128 MiB per storage binding (WebGPU's default
  // maxStorageBufferBindingSize) even where the adapter allows more
  // (SwiftShader: 1 GiB), so the 448 MB parameter buffer is bound through
  // windows as on most GPUs.
  const r = await result(page, '/selftest?base=1&window=128', BASE_MS);
  await shot(page, 'selftest-base');
  const b = r.base || {};
  console.log(`adapter: ${r.adapter?.name}, storage bindings of at most ${r.binding_limit} bytes; base: ${b.params} parameters, loss ${b.loss} (native CPU ${b.expected_loss}), ` +
    `mean |prediction| ${b.checksum} (${b.expected_checksum}); init+upload ${b.init_ms} ms, forward ${b.forward_ms} ms; ${r.wallMs} ms in all`);
  assert.equal(r.status, 'pass', r.error);
  assert.equal(b.params, 111907840);
  assert.equal(r.binding_limit, 128 * 2 ** 20, `bound through 128 MiB windows (${r.binding_limit})`);
  assert.ok(Number.isFinite(b.mse) && b.mse > 0, `reconstruction MSE ${b.mse}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
