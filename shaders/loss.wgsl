// loss.wgsl: the MAE reconstruction loss: norm_pix_loss target, masked MSE
// (two-stage deterministic reduction) and its gradient.
//
// Layouts (row-major f32, element offsets off_* into each binding):
//   pred    (B, 1+L, dim): row 0 of every sample is the CLS row (skipped)
//   target  (B, L, dim);  mask (B, L), 1 = removed patch (scored)
//   rowloss (B*L) scratch: mask[b,i] * mean_j (pred[b,1+i,j]-target[b,i,j])^2
//   loss    (1) = sum(rowloss) / num_masked
//
// normalize_patches (one workgroup per row of x, rows x dim):
//   dst = (x - mean) / sqrt(var + 1e-6), var the unbiased variance.
// masked_mse_rows (one workgroup per (b, i) row): rowloss; rows with mask 0
//   are skipped (rowloss 0).
// masked_mse_total (a single workgroup): loss = sum(rowloss) / num_masked;
//   each thread sums a strided subset, then a tree reduction.
// masked_mse_backward (one thread per element of dpred):
//   dpred[b,0,:] = 0; dpred[b,1+i,j] = coef * mask[b,i] * (pred - target),
//   coef = 2 * dloss / (dim * num_masked) (computed on the host).
// Row grids may be 2-D: row = wid.y * num_workgroups.x + wid.x.

const WG = 128u;
const EW = 256u; // threads per workgroup of the elementwise backward

struct Params {
    rows: u32,      // B*L (rows of target), or rows of x for normalize
    l: u32,
    dim: u32,
    n: u32,         // elements of dpred (backward)
    scale: f32,     // 1/num_masked (total), coef (backward)
    off_out: u32,   // dst / rowloss / loss / dpred
    off_pred: u32,  // x for normalize
    off_tgt: u32,
    off_mask: u32,
    off_rowloss: u32,  // rowloss for the total
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> pred: array<f32>;
@group(0) @binding(3) var<storage, read_write> tgt: array<f32>;
@group(0) @binding(4) var<storage, read_write> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowloss: array<f32>;


@compute @workgroup_size(WG)
fn normalize_patches(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x;
    if (row >= P.rows) {
        return;
    }
    let dim = P.dim;
    let base = P.off_pred + row * dim;
    var s = 0.0;
    for (var j = lid; j < dim; j += WG) {
        s += pred[base + j];
    }
    let mu = reduce_sum(lid, s) / f32(dim);
    var q = 0.0;
    for (var j = lid; j < dim; j += WG) {
        let d = pred[base + j] - mu;
        q += d * d;
    }
    let variance = reduce_sum(lid, q) / f32(dim - 1u);
    let r = 1.0 / sqrt(variance + 1e-6);
    for (var j = lid; j < dim; j += WG) {
        out[P.off_out + row * dim + j] = (pred[base + j] - mu) * r;
    }
}

@compute @workgroup_size(WG)
fn masked_mse_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
    let row = wid.y * nwg.x + wid.x; // b * L + i
    if (row >= P.rows) {
        return;
    }
    // m is not uniform for the analysis (a storage load): keep the barrier in
    // the reduction outside any branch on it.
    let m = mask[P.off_mask + row];
    let dim = P.dim;
    let b = row / P.l;
    let pbase = P.off_pred + (row + b + 1u) * dim; // (b*(1+L) + 1 + i) * dim
    let tbase = P.off_tgt + row * dim;
    var s = 0.0;
    if (m != 0.0) {
        for (var j = lid; j < dim; j += WG) {
            let e = pred[pbase + j] - tgt[tbase + j];
            s += e * e;
        }
    }
    let total = reduce_sum(lid, s);
    if (lid == 0u) {
        out[P.off_out + row] = select(0.0, m * (total / f32(dim)), m != 0.0);
    }
}

@compute @workgroup_size(WG)
fn masked_mse_total(@builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var r = lid; r < P.rows; r += WG) {
        s += rowloss[P.off_rowloss + r];
    }
    let total = reduce_sum(lid, s);
    if (lid == 0u) {
        out[P.off_out] = total * P.scale;
    }
}

@compute @workgroup_size(EW)
fn masked_mse_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let e = (wid.y * nwg.x + wid.x) * EW + lid;
    if (e >= P.n) {
        return;
    }
    let dim = P.dim;
    let l1 = P.l + 1u;
    let r = e / dim;     // b * (1+L) + t
    let j = e % dim;
    let b = r / l1;
    let t = r % l1;
    var v = 0.0;
    if (t > 0u) {
        let i = b * P.l + t - 1u;
        v = P.scale * mask[P.off_mask + i] * (pred[P.off_pred + e] - tgt[P.off_tgt + i * dim + j]);
    }
    out[P.off_out + e] = v;
}

// #include reductions.wgsl
