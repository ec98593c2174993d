// layernorm.wgsl: LayerNorm forward and backward over the rows of x.
//
// Layouts (row-major f32, element offsets off_* into each binding):
//   x, y, dy, dx   rows x dim
//   gamma, beta    dim;   dgamma, dbeta  dim
//   mean, rstd     rows   (saved by the forward for the backward)
//
// layernorm (one workgroup per row, WG threads striding over the row):
//   mean = sum(x)/dim; var = sum((x-mean)^2)/dim (two passes, biased);
//   rstd = 1/sqrt(var + eps); y = (x - mean) * rstd * gamma + beta.
// layernorm_backward_dx (one workgroup per row):
//   xhat = (x-mean)*rstd; g = dy*gamma;
//   dx (+)= rstd * (g - mean(g) - xhat * mean(g*xhat))   (flags bit 0: +=)
// layernorm_backward_params (one workgroup per COLS columns, COLS x LANES
//   threads; thread (x, y) walks rows y, y+LANES, ...; fixed-order combine):
//   dgamma[j] = sum_r dy[r,j] * xhat[r,j];  dbeta[j] = sum_r dy[r,j]
//   both written through binding 1 (out), dgamma at off_out when flags
//   bit 1, dbeta at off_beta when flags bit 2: browsers reject two
//   writable bindings of one buffer, and both are views of the gradients.
// gamma and beta are read-only bindings (views of the parameters, bound
// together).
// Row reductions are reductions.wgsl's (WG a power of 2).
// The row grid may be 2-D: row = wid.y * num_workgroups.x + wid.x.

const WG = 128u;
const COLS = 32u;
const LANES = 8u;

struct Params {
    rows: u32,
    dim: u32,
    eps: f32,
    flags: u32,
    off_out: u32,   // y (forward), dx (backward dx), dgamma (backward params, in out)
    off_x: u32,
    off_mean: u32,
    off_rstd: u32,
    off_gamma: u32, // gamma (forward, backward dx)
    off_beta: u32,  // beta (forward), dbeta (backward params, in out)
    off_dy: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> beta: array<f32>;
@group(0) @binding(7) var<storage, read_write> dy: array<f32>;

var<workgroup> partial: array<f32, COLS * LANES>;
var<workgroup> partial2: array<f32, COLS * LANES>;

@compute @workgroup_size(WG)
fn layernorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;
    if (row >= P.rows) {
        return; // uniform per workgroup
    }
    let dim = P.dim;
    let base = P.off_x + row * dim;
    var s = 0.0;
    for (var j = lid; j < dim; j += WG) {
        s += x[base + j];
    }
    let mu = reduce_sum(lid, s) / f32(dim);
    var q = 0.0;
    for (var j = lid; j < dim; j += WG) {
        let d = x[base + j] - mu;
        q += d * d;
    }
    let variance = reduce_sum(lid, q) / f32(dim);
    let r = 1.0 / sqrt(variance + P.eps);
    let obase = P.off_out + row * dim;
    for (var j = lid; j < dim; j += WG) {
        out[obase + j] = (x[base + j] - mu) * r * gamma[P.off_gamma + j] + beta[P.off_beta + j];
    }
    if (lid == 0u) {
        mean[P.off_mean + row] = mu;
        rstd[P.off_rstd + row] = r;
    }
}

@compute @workgroup_size(WG)
fn layernorm_backward_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;
    if (row >= P.rows) {
        return;
    }
    let dim = P.dim;
    let base = row * dim;
    let mu = mean[P.off_mean + row];
    let r = rstd[P.off_rstd + row];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = lid; j < dim; j += WG) {
        let xhat = (x[P.off_x + base + j] - mu) * r;
        let g = dy[P.off_dy + base + j] * gamma[P.off_gamma + j];
        sg += g;
        sgx += g * xhat;
    }
    let sums = reduce_sum2(lid, vec2<f32>(sg, sgx)) / f32(dim);
    let accumulate = (P.flags & 1u) != 0u;
    for (var j = lid; j < dim; j += WG) {
        let xhat = (x[P.off_x + base + j] - mu) * r;
        let g = dy[P.off_dy + base + j] * gamma[P.off_gamma + j];
        var v = r * (g - sums.x - xhat * sums.y);
        let idx = P.off_out + base + j;
        if (accumulate) {
            v += out[idx];
        }
        out[idx] = v;
    }
}

@compute @workgroup_size(COLS, LANES)
fn layernorm_backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let col = wid.x * COLS + lid.x;
    let dim = P.dim;
    var sg = 0.0;
    var sb = 0.0;
    if (col < dim) {
        for (var r = lid.y; r < P.rows; r += LANES) {
            let d = dy[P.off_dy + r * dim + col];
            let xhat = (x[P.off_x + r * dim + col] - mean[P.off_mean + r]) * rstd[P.off_rstd + r];
            sg += d * xhat;
            sb += d;
        }
    }
    partial[lid.y * COLS + lid.x] = sg;
    partial2[lid.y * COLS + lid.x] = sb;
    workgroupBarrier();
    if (lid.y == 0u && col < dim) {
        var tg = 0.0;
        var tb = 0.0;
        for (var y = 0u; y < LANES; y++) {
            tg += partial[y * COLS + lid.x];
            tb += partial2[y * COLS + lid.x];
        }
        if ((P.flags & 2u) != 0u) {
            out[P.off_out + col] = tg;
        }
        if ((P.flags & 4u) != 0u) {
            out[P.off_beta + col] = tb;
        }
    }
}

// layernorm_rows and layernorm_backward_dx_rows compute the same as
// layernorm and layernorm_backward_dx with one thread per row (row =
// global thread index; engine/gpu uses them for dim <= 256): no workgroup
// memory and no barriers, which software adapters pay dearly for
// (SwiftShader: ~0.2 ms per row-per-workgroup workgroup). Sums run
// serially over the row.
@compute @workgroup_size(WG)
fn layernorm_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * WG + lid;
    if (row >= P.rows) {
        return;
    }
    let dim = P.dim;
    let base = P.off_x + row * dim;
    var s = 0.0;
    for (var j = 0u; j < dim; j++) {
        s += x[base + j];
    }
    let mu = s / f32(dim);
    var q = 0.0;
    for (var j = 0u; j < dim; j++) {
        let d = x[base + j] - mu;
        q += d * d;
    }
    let r = 1.0 / sqrt(q / f32(dim) + P.eps);
    let obase = P.off_out + row * dim;
    for (var j = 0u; j < dim; j++) {
        out[obase + j] = (x[base + j] - mu) * r * gamma[P.off_gamma + j] + beta[P.off_beta + j];
    }
    mean[P.off_mean + row] = mu;
    rstd[P.off_rstd + row] = r;
}

@compute @workgroup_size(WG)
fn layernorm_backward_dx_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                              @builtin(local_invocation_index) lid: u32) {
    let row = (wid.y * nwg.x + wid.x) * WG + lid;
    if (row >= P.rows) {
        return;
    }
    let dim = P.dim;
    let base = row * dim;
    let mu = mean[P.off_mean + row];
    let r = rstd[P.off_rstd + row];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = 0u; j < dim; j++) {
        let xhat = (x[P.off_x + base + j] - mu) * r;
        let g = dy[P.off_dy + base + j] * gamma[P.off_gamma + j];
        sg += g;
        sgx += g * xhat;
    }
    let m1 = sg / f32(dim);
    let m2 = sgx / f32(dim);
    let accumulate = (P.flags & 1u) != 0u;
    for (var j = 0u; j < dim; j++) {
        let xhat = (x[P.off_x + base + j] - mu) * r;
        let g = dy[P.off_dy + base + j] * gamma[P.off_gamma + j];
        var v = r * (g - m1 - xhat * m2);
        let idx = P.off_out + base + j;
        if (accumulate) {
            v += out[idx];
        }
        out[idx] = v;
    }
}

// #include reductions.wgsl
