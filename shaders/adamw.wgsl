// adamw.wgsl: one AdamW update (PyTorch semantics, decoupled weight decay)
// over a flat range of parameters, gradients and moments:
//
//   p *= 1 - lr * wd
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
//
// p, g, m, v are contiguous f32 ranges of n elements at element offsets
// off_param, off_grad, off_m1, off_m2 (bindings param, grad, m1, m2). One
// thread updates one element; a workgroup WG consecutive elements; linear
// workgroup index wid.y * num_workgroups.x + wid.x (the host splits ranges
// larger than one storage binding into chunks).

const WG = 256u;

struct Params {
    n: u32,
    off_param: u32,
    off_grad: u32,
    off_m1: u32,
    off_m2: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    wd: f32,
    bc1: f32,
    bc2: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

@compute @workgroup_size(WG)
fn adamw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= P.n) {
        return;
    }
    let g = grad[P.off_grad + i];
    let m = P.beta1 * m1[P.off_m1 + i] + (1.0 - P.beta1) * g;
    let v = P.beta2 * m2[P.off_m2 + i] + (1.0 - P.beta2) * g * g;
    m1[P.off_m1 + i] = m;
    m2[P.off_m2 + i] = v;
    let p = param[P.off_param + i] * (1.0 - P.lr * P.wd);
    param[P.off_param + i] = p - (P.lr / P.bc1) * m / (sqrt(v) / sqrt(P.bc2) + P.eps);
}
