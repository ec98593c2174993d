// tokens.wgsl: moving token rows between the patch grid, the encoder's
// visible set and the decoder's full set (MAE masking), and the adjoints.
//
// Layouts (row-major; f32 unless noted; element offsets off_* per binding):
//   emb     (B, L, D)      patch embeddings
//   enc     (B, 1+K, D)    encoder input/output: row 0 = CLS, row 1+k = kept k
//   dec     (B, 1+L, D)    decoder input: row 0 = CLS, row 1+i = patch i
//   keep    (B, K)   i32   indices of the kept patches
//   restore (B, L)   i32   position of patch i in the shuffled order
//   mask    (B, L)         1 = removed patch
//   first / mask_token (D)
//
// Elementwise entries (one thread per output element, WG per workgroup,
// linear workgroup index wid.y * num_workgroups.x + wid.x):
//   gather_tokens:      enc[b,0] = first; enc[b,1+k] = emb[b, keep[b,k]]
//   scatter_tokens:     emb[b, keep[b,k]] = enc[b,1+k]   (rows not kept are
//                       zeroed beforehand by a separate dispatch)
//   unshuffle:          dec[b,0] = enc[b,0]; dec[b,1+i] = enc[b,1+restore[b,i]]
//                       if restore[b,i] < K, else mask_token
//   unshuffle_backward: denc[b,0] = ddec[b,0]; denc[b,1+k] = ddec[b,1+keep[b,k]]
// masked_token_sum (one workgroup per COLS columns, COLS x LANES threads,
//   fixed-order combine): dmask_token[d] = sum over (b,i) with mask != 0 of
//   ddec[b,1+i,d].
// An index outside [0, L) reads as NaN rather than touching other memory.

const WG = 256u;
const COLS = 32u;
const LANES = 8u;

struct Params {
    b: u32,
    l: u32,
    k: u32,
    d: u32,
    n: u32, // output elements (elementwise entries)
    off_out: u32,
    off_src: u32,
    off_first: u32,
    off_idx: u32,
    off_mask: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> first: array<f32>;
@group(0) @binding(4) var<storage, read_write> idx: array<i32>;
@group(0) @binding(5) var<storage, read_write> mask: array<f32>;

var<workgroup> partial: array<f32, COLS * LANES>;

// nan returns a quiet NaN (built from a runtime value: a constant NaN is a
// shader-creation error).
fn nan() -> f32 {
    return bitcast<f32>(0x7fc00000u | (P.n & 0u));
}

@compute @workgroup_size(WG)
fn gather_tokens(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let e = element(wid, nwg, lid);
    if (e >= P.n) {
        return;
    }
    let d = e % P.d;
    let r = e / P.d;          // b * (1+K) + t
    let b = r / (P.k + 1u);
    let t = r % (P.k + 1u);
    var v: f32;
    if (t == 0u) {
        v = first[P.off_first + d];
    } else {
        let p = idx[P.off_idx + b * P.k + t - 1u];
        if (p >= 0 && u32(p) < P.l) {
            v = src[P.off_src + (b * P.l + u32(p)) * P.d + d];
        } else {
            v = nan();
        }
    }
    out[P.off_out + e] = v;
}

@compute @workgroup_size(WG)
fn scatter_tokens(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let e = element(wid, nwg, lid); // over (B, K, D)
    if (e >= P.n) {
        return;
    }
    let d = e % P.d;
    let r = e / P.d; // b * K + k
    let b = r / P.k;
    let k = r % P.k;
    let p = idx[P.off_idx + r];
    if (p >= 0 && u32(p) < P.l) {
        out[P.off_out + (b * P.l + u32(p)) * P.d + d] = src[P.off_src + (b * (P.k + 1u) + 1u + k) * P.d + d];
    }
}

@compute @workgroup_size(WG)
fn unshuffle(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let e = element(wid, nwg, lid); // over (B, 1+L, D)
    if (e >= P.n) {
        return;
    }
    let d = e % P.d;
    let r = e / P.d;
    let b = r / (P.l + 1u);
    let t = r % (P.l + 1u);
    var v: f32;
    if (t == 0u) {
        v = src[P.off_src + b * (P.k + 1u) * P.d + d];
    } else {
        let p = idx[P.off_idx + b * P.l + t - 1u];
        if (p < 0 || u32(p) >= P.l) {
            v = nan();
        } else if (u32(p) < P.k) {
            v = src[P.off_src + (b * (P.k + 1u) + 1u + u32(p)) * P.d + d];
        } else {
            v = first[P.off_first + d];
        }
    }
    out[P.off_out + e] = v;
}

@compute @workgroup_size(WG)
fn unshuffle_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
    let e = element(wid, nwg, lid); // over (B, 1+K, D)
    if (e >= P.n) {
        return;
    }
    let d = e % P.d;
    let r = e / P.d;
    let b = r / (P.k + 1u);
    let t = r % (P.k + 1u);
    var v: f32;
    if (t == 0u) {
        v = src[P.off_src + b * (P.l + 1u) * P.d + d];
    } else {
        let p = idx[P.off_idx + b * P.k + t - 1u];
        if (p >= 0 && u32(p) < P.l) {
            v = src[P.off_src + (b * (P.l + 1u) + 1u + u32(p)) * P.d + d];
        } else {
            v = nan();
        }
    }
    out[P.off_out + e] = v;
}

@compute @workgroup_size(COLS, LANES)
fn masked_token_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let col = wid.x * COLS + lid.x;
    var s = 0.0;
    if (col < P.d) {
        let rows = P.b * P.l;
        for (var q = lid.y; q < rows; q += LANES) {
            if (mask[P.off_mask + q] != 0.0) {
                let b = q / P.l;
                s += src[P.off_src + (q + b + 1u) * P.d + col]; // (b*(1+L) + 1 + i) * D
            }
        }
    }
    partial[lid.y * COLS + lid.x] = s;
    workgroupBarrier();
    if (lid.y == 0u && col < P.d) {
        var t = 0.0;
        for (var y = 0u; y < LANES; y++) {
            t += partial[y * COLS + lid.x];
        }
        out[P.off_out + col] = t;
    }
}

// #include element.wgsl
