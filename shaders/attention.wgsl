// attention.wgsl: fused multi-head scaled-dot-product attention and its
// backward, softmax rows held in workgroup memory (T <= MAX_T, hd <= MAX_HD;
// engine/gpu specialises both to the next powers of two of the sequence:
// SwiftShader zero-initialises the rows for every workgroup).
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
var<workgroup> red: array<f32, WG>;

fn reduce_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

fn reduce_max(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] = max(red[lid], red[lid + s]);
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

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

    var m = -3.40282346e38f; // -FLT_MAX (Tint rejects the rounded-up -3.4028235e38)
    for (var j = lid; j < T; j += WG) {
        let kb = P.off_qkv + qkv_base(b, j, h, 1u);
        var s = 0.0;
        for (var d = 0u; d < hd; d++) {
            s = fma(rowvec[d], qkv[kb + d], s);
        }
        s *= P.scale;
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

    let pb = P.off_probs + (wk.bh * T + i) * T;
    var acc = 0.0;
    for (var j = lid; j < T; j += WG) {
        let vb = P.off_qkv + qkv_base(b, j, h, 2u);
        var dp = 0.0;
        for (var d = 0u; d < hd; d++) {
            dp = fma(rowvec[d], qkv[vb + d], dp);
        }
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
