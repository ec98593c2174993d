// attention.wgsl: fused multi-head scaled-dot-product attention and its
// backward. A workgroup holds one row of scores in workgroup memory
// (row_a/row_b, MAX_T floats; hd <= MAX_HD). engine/gpu specialises MAX_T
// and MAX_HD to the next powers of two of the sequence (at most 1024 and
// 256: SwiftShader zero-initialises the rows for every workgroup), and WG,
// the threads per workgroup, to 16 on software adapters (64 on GPUs).
// Sequences longer than MAX_T take the *_long paths: the keys (or queries)
// are walked in chunks of MAX_T; the forward uses the online softmax (a
// running max m and sum z, rescaling the partial output by exp(m_old - m_new)
// at each chunk; raw scores are parked in probs and normalised at the end),
// the backward recomputes dP per chunk. Per-feature accumulators live in
// acc_a/acc_b (MAX_HD), each owned by the thread of that feature.
//
// Layouts (row-major f32, element offsets off_* per binding), C = H * hd:
//   qkv   (B, T, 3C): q | k | v blocks, head h at columns h*hd .. (h+1)*hd
//                     of each block
//   out   (B, T, C)     dout (B, T, C)     dqkv (B, T, 3C) like qkv
//   probs (B, H, T, T)  softmax(q k^T * scale) rows, saved by the forward
//   dsum  (B, H, T)     scratch: D_i = sum_j P_ij dP_ij = dout_i . out_i
//
// One workgroup per (b, h, row): the workgroup index w = (b*H + h)*T + row
// (2-D grid: w = wid.y * num_workgroups.x + wid.x). Threads stride over the
// T keys for scores and over the hd features for the output vectors.
//   attention_forward (row = query i):
//     s_j = scale * q_i . k_j; p = softmax(s) (max-subtracted); probs[i,:] = p;
//     out_i = sum_j p_j v_j
//   attention_backward_q (row = query i):
//     dP_ij = dout_i . v_j; D_i = sum_j P_ij dP_ij (saved to dsum);
//     dS_ij = P_ij (dP_ij - D_i); dq_i = scale * sum_j dS_ij k_j
//   attention_backward_kv (row = key j; needs dsum from the pass above):
//     dS_ij = P_ij (dout_i . v_j - D_i) for all i;
//     dk_j = scale * sum_i dS_ij q_i;  dv_j = sum_i P_ij dout_i

const WG = 64u;
const MAX_T = 1024u;
const MAX_HD = 256u;

struct Params {
    b: u32,
    t: u32,
    h: u32,
    hd: u32,
    scale: f32,
    off_out: u32,   // out (forward), dqkv (backward)
    off_qkv: u32,
    off_probs: u32,
    off_dout: u32,
    off_dsum: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // out or dqkv
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dsum: array<f32>;

var<workgroup> row_a: array<f32, MAX_T>; // scores / probabilities / dS
var<workgroup> row_b: array<f32, MAX_T>; // P column (backward kv)
var<workgroup> rowvec: array<f32, MAX_HD>;  // the row's q, dout or v vector
var<workgroup> acc_a: array<f32, MAX_HD>; // long paths: out, dq or dk per feature
var<workgroup> acc_b: array<f32, MAX_HD>; // long path of backward_kv: dv

const NEG_MAX = -3.40282346e38f; // -FLT_MAX (Tint rejects the rounded-up -3.4028235e38)

// Work is the (b*H + h, row) pair of one workgroup; valid is false for the
// padding workgroups of a 2-D grid.
struct Work {
    bh: u32,
    row: u32,
    valid: bool,
}

fn work(wid: vec3<u32>, nwg: vec3<u32>) -> Work {
    let w = wid.y * nwg.x + wid.x;
    let total = P.b * P.h * P.t;
    return Work(w / P.t, w % P.t, w < total);
}

// base of token t's q (part 0), k (1) or v (2) block for head h in sample b.
fn qkv_base(b: u32, t: u32, h: u32, part: u32) -> u32 {
    let c = P.h * P.hd;
    return (b * P.t + t) * 3u * c + part * c + h * P.hd;
}

@compute @workgroup_size(WG)
fn attention_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let wk = work(wid, nwg);
    if (!wk.valid) {
        return;
    }
    let T = P.t;
    let hd = P.hd;
    let b = wk.bh / P.h;
    let h = wk.bh % P.h;
    let i = wk.row;

    let qb = P.off_qkv + qkv_base(b, i, h, 0u);
    for (var d = lid; d < hd; d += WG) {
        rowvec[d] = qkv[qb + d];
    }
    workgroupBarrier();

    if (T > MAX_T) {
        forward_long(lid, b, h, i, wk.bh);
        return;
    }
    var m = NEG_MAX;
    for (var j = lid; j < T; j += WG) {
        let s = dot_rowvec(P.off_qkv + qkv_base(b, j, h, 1u)) * P.scale;
        row_a[j] = s;
        m = max(m, s);
    }
    m = reduce_max(lid, m);
    var z = 0.0;
    for (var j = lid; j < T; j += WG) {
        let e = exp(row_a[j] - m);
        row_a[j] = e;
        z += e;
    }
    let inv = 1.0 / reduce_sum(lid, z);
    let pb = P.off_probs + (wk.bh * T + i) * T;
    for (var j = lid; j < T; j += WG) {
        let p = row_a[j] * inv;
        row_a[j] = p;
        probs[pb + j] = p;
    }
    workgroupBarrier();

    let c = P.h * hd;
    let ob = P.off_out + (b * T + i) * c + h * hd;
    for (var d = lid; d < hd; d += WG) {
        var acc = 0.0;
        for (var j = 0u; j < T; j++) {
            acc = fma(row_a[j], qkv[P.off_qkv + qkv_base(b, j, h, 2u) + d], acc);
        }
        out[ob + d] = acc;
    }
}

@compute @workgroup_size(WG)
fn attention_backward_q(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_index) lid: u32) {
    let wk = work(wid, nwg);
    if (!wk.valid) {
        return;
    }
    let T = P.t;
    let hd = P.hd;
    let c = P.h * hd;
    let b = wk.bh / P.h;
    let h = wk.bh % P.h;
    let i = wk.row;

    let db = P.off_dout + (b * T + i) * c + h * hd;
    for (var d = lid; d < hd; d += WG) {
        rowvec[d] = dout[db + d];
    }
    workgroupBarrier();

    if (T > MAX_T) {
        backward_q_long(lid, b, h, i, wk.bh);
        return;
    }
    let pb = P.off_probs + (wk.bh * T + i) * T;
    var acc = 0.0;
    for (var j = lid; j < T; j += WG) {
        let dp = dot_rowvec(P.off_qkv + qkv_base(b, j, h, 2u));
        row_a[j] = dp;
        acc = fma(probs[pb + j], dp, acc);
    }
    let dsum_i = reduce_sum(lid, acc);
    if (lid == 0u) {
        dsum[P.off_dsum + wk.bh * T + i] = dsum_i;
    }
    for (var j = lid; j < T; j += WG) {
        row_a[j] = probs[pb + j] * (row_a[j] - dsum_i);
    }
    workgroupBarrier();

    let ob = P.off_out + qkv_base(b, i, h, 0u);
    for (var d = lid; d < hd; d += WG) {
        var g = 0.0;
        for (var j = 0u; j < T; j++) {
            g = fma(row_a[j], qkv[P.off_qkv + qkv_base(b, j, h, 1u) + d], g);
        }
        out[ob + d] = g * P.scale;
    }
}

@compute @workgroup_size(WG)
fn attention_backward_kv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let wk = work(wid, nwg);
    if (!wk.valid) {
        return;
    }
    let T = P.t;
    let hd = P.hd;
    let c = P.h * hd;
    let b = wk.bh / P.h;
    let h = wk.bh % P.h;
    let j = wk.row;

    let vb = P.off_qkv + qkv_base(b, j, h, 2u);
    for (var d = lid; d < hd; d += WG) {
        rowvec[d] = qkv[vb + d];
    }
    workgroupBarrier();

    if (T > MAX_T) {
        backward_kv_long(lid, b, h, j, wk.bh);
        return;
    }
    let pb = P.off_probs + wk.bh * T * T + j; // column j: stride T
    for (var i = lid; i < T; i += WG) {
        let db = P.off_dout + (b * T + i) * c + h * hd;
        var dp = 0.0;
        for (var d = 0u; d < hd; d++) {
            dp = fma(dout[db + d], rowvec[d], dp);
        }
        let p = probs[pb + i * T];
        row_b[i] = p;
        row_a[i] = p * (dp - dsum[P.off_dsum + wk.bh * T + i]);
    }
    workgroupBarrier();

    let kb = P.off_out + qkv_base(b, j, h, 1u);
    let vob = P.off_out + qkv_base(b, j, h, 2u);
    for (var d = lid; d < hd; d += WG) {
        var gk = 0.0;
        var gv = 0.0;
        for (var i = 0u; i < T; i++) {
            gk = fma(row_a[i], qkv[P.off_qkv + qkv_base(b, i, h, 0u) + d], gk);
            gv = fma(row_b[i], dout[P.off_dout + (b * T + i) * c + h * hd + d], gv);
        }
        out[kb + d] = gk * P.scale;
        out[vob + d] = gv;
    }
}

// rowvec . (hd features of qkv starting at base)
fn dot_rowvec(base: u32) -> f32 {
    var s = 0.0;
    for (var d = 0u; d < P.hd; d++) {
        s = fma(rowvec[d], qkv[base + d], s);
    }
    return s;
}

// forward_long: attention_forward for T > MAX_T (rowvec holds q_i). Chunk c
// of keys j0 .. j0+n: scores into row_a and (raw) into probs; the running
// max m and sum z of exp(s - m) are updated by the online-softmax rule
// z = z * exp(m_old - m) + sum_chunk exp(s_j - m), and so is every
// feature's partial output acc_a[d] = acc_a[d] * exp(m_old - m) +
// sum_chunk exp(s_j - m) v_jd. At the end out_i = acc_a / z and probs are
// rewritten as exp(s - m) / z by the threads that wrote them.
fn forward_long(lid: u32, b: u32, h: u32, i: u32, bh: u32) {
    let T = P.t;
    let hd = P.hd;
    for (var d = lid; d < hd; d += WG) {
        acc_a[d] = 0.0;
    }
    let pb = P.off_probs + (bh * T + i) * T;
    var m_run = NEG_MAX;
    var z_run = 0.0;
    for (var j0 = 0u; j0 < T; j0 += MAX_T) {
        let n = min(MAX_T, T - j0);
        var mc = NEG_MAX;
        for (var j = lid; j < n; j += WG) {
            let s = dot_rowvec(P.off_qkv + qkv_base(b, j0 + j, h, 1u)) * P.scale;
            row_a[j] = s;
            probs[pb + j0 + j] = s;
            mc = max(mc, s);
        }
        let m_new = max(m_run, reduce_max(lid, mc));
        let alpha = exp(m_run - m_new); // 0 at the first chunk
        var zc = 0.0;
        for (var j = lid; j < n; j += WG) {
            let e = exp(row_a[j] - m_new);
            row_a[j] = e;
            zc += e;
        }
        z_run = fma(z_run, alpha, reduce_sum(lid, zc)); // reduce_sum's barriers publish row_a
        for (var d = lid; d < hd; d += WG) {
            var a = acc_a[d] * alpha;
            for (var j = 0u; j < n; j++) {
                a = fma(row_a[j], qkv[P.off_qkv + qkv_base(b, j0 + j, h, 2u) + d], a);
            }
            acc_a[d] = a;
        }
        workgroupBarrier(); // row_a is rewritten by the next chunk
        m_run = m_new;
    }
    let inv = 1.0 / z_run;
    let ob = P.off_out + (b * T + i) * P.h * hd + h * hd;
    for (var d = lid; d < hd; d += WG) {
        out[ob + d] = acc_a[d] * inv;
    }
    for (var j0 = 0u; j0 < T; j0 += MAX_T) {
        let n = min(MAX_T, T - j0);
        for (var j = lid; j < n; j += WG) {
            probs[pb + j0 + j] = exp(probs[pb + j0 + j] - m_run) * inv;
        }
    }
}

// backward_q_long: attention_backward_q for T > MAX_T (rowvec holds dout_i).
// One pass for D_i = sum_j P_ij (dout_i . v_j); then per chunk of keys
// dS_ij = P_ij (dout_i . v_j - D_i) into row_a and acc_a[d] += sum_chunk
// dS_ij k_jd; dq_i = scale * acc_a.
fn backward_q_long(lid: u32, b: u32, h: u32, i: u32, bh: u32) {
    let T = P.t;
    let hd = P.hd;
    let pb = P.off_probs + (bh * T + i) * T;
    var acc = 0.0;
    for (var j = lid; j < T; j += WG) {
        acc = fma(probs[pb + j], dot_rowvec(P.off_qkv + qkv_base(b, j, h, 2u)), acc);
    }
    let dsum_i = reduce_sum(lid, acc);
    if (lid == 0u) {
        dsum[P.off_dsum + bh * T + i] = dsum_i;
    }
    for (var d = lid; d < hd; d += WG) {
        acc_a[d] = 0.0;
    }
    for (var j0 = 0u; j0 < T; j0 += MAX_T) {
        let n = min(MAX_T, T - j0);
        for (var j = lid; j < n; j += WG) {
            let dp = dot_rowvec(P.off_qkv + qkv_base(b, j0 + j, h, 2u));
            row_a[j] = probs[pb + j0 + j] * (dp - dsum_i);
        }
        workgroupBarrier();
        for (var d = lid; d < hd; d += WG) {
            var g = acc_a[d];
            for (var j = 0u; j < n; j++) {
                g = fma(row_a[j], qkv[P.off_qkv + qkv_base(b, j0 + j, h, 1u) + d], g);
            }
            acc_a[d] = g;
        }
        workgroupBarrier();
    }
    let ob = P.off_out + qkv_base(b, i, h, 0u);
    for (var d = lid; d < hd; d += WG) {
        out[ob + d] = acc_a[d] * P.scale;
    }
}

// backward_kv_long: attention_backward_kv for T > MAX_T (rowvec holds v_j).
// Per chunk of queries i0 .. i0+n: P_ij into row_b, dS_ij into row_a, then
// acc_a[d] += sum_chunk dS_ij q_id and acc_b[d] += sum_chunk P_ij dout_id;
// dk_j = scale * acc_a, dv_j = acc_b.
fn backward_kv_long(lid: u32, b: u32, h: u32, j: u32, bh: u32) {
    let T = P.t;
    let hd = P.hd;
    let c = P.h * hd;
    for (var d = lid; d < hd; d += WG) {
        acc_a[d] = 0.0;
        acc_b[d] = 0.0;
    }
    let pb = P.off_probs + bh * T * T + j; // column j: stride T
    for (var i0 = 0u; i0 < T; i0 += MAX_T) {
        let n = min(MAX_T, T - i0);
        for (var i = lid; i < n; i += WG) {
            let db = P.off_dout + (b * T + i0 + i) * c + h * hd;
            var dp = 0.0;
            for (var d = 0u; d < hd; d++) {
                dp = fma(dout[db + d], rowvec[d], dp);
            }
            let p = probs[pb + (i0 + i) * T];
            row_b[i] = p;
            row_a[i] = p * (dp - dsum[P.off_dsum + bh * T + i0 + i]);
        }
        workgroupBarrier();
        for (var d = lid; d < hd; d += WG) {
            var gk = acc_a[d];
            var gv = acc_b[d];
            for (var i = 0u; i < n; i++) {
                gk = fma(row_a[i], qkv[P.off_qkv + qkv_base(b, i0 + i, h, 0u) + d], gk);
                gv = fma(row_b[i], dout[P.off_dout + (b * T + i0 + i) * c + h * hd + d], gv);
            }
            acc_a[d] = gk;
            acc_b[d] = gv;
        }
        workgroupBarrier();
    }
    for (var d = lid; d < hd; d += WG) {
        out[P.off_out + qkv_base(b, j, h, 1u) + d] = acc_a[d] * P.scale;
        out[P.off_out + qkv_base(b, j, h, 2u) + d] = acc_b[d];
    }
}

// #include reductions.wgsl
