// gelu.wgsl: exact (erf) GELU and its derivative, elementwise.
//
//   gelu(x)  = x * Phi(x),             Phi(x) = (1 + erf(x / sqrt(2))) / 2
//   gelu'(x) = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi)
//
// Layout: y, x, dy are contiguous f32 ranges of n elements at element offsets
// off_y, off_x, off_dy. One thread computes one element; a workgroup WG
// consecutive elements; the grid may be 2-D (linear workgroup index
// wid.y * num_workgroups.x + wid.x).
//
// erf, Phi and the exact exp helpers are in erf.wgsl (included below).

const WG = 256u;

struct Params {
    n: u32,
    off_y: u32,
    off_x: u32,
    off_dy: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;

// gelu: y = gelu(x).
@compute @workgroup_size(WG)
fn gelu(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        let v = x[P.off_x + i];
        y[P.off_y + i] = gelu_value(v);
    }
}

// gelu_backward: y (= dx) = dy * gelu'(x).
@compute @workgroup_size(WG)
fn gelu_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        let v = x[P.off_x + i];
        let pdf = FRAC_1_SQRT_2PI * exp_neg_sq(v, 0.5);
        let d = normal_cdf(v) + v * pdf;
        y[P.off_y + i] = dy[P.off_dy + i] * d;
    }
}

// #include erf.wgsl
// #include element.wgsl
