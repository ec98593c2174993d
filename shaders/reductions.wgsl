// reductions.wgsl: workgroup-wide reductions, every thread gets the result.
// A library without bindings or entry points, included with a
// `// #include reductions.wgsl` line by files whose row kernels reduce over
// a workgroup (attention.wgsl, layernorm.wgsl, loss.wgsl). The including
// file declares the workgroup size `const WG` (a power of two); this file
// declares its scratch row `red`. lid is the thread's
// local_invocation_index; every function is called in workgroup-uniform
// control flow, and workgroup memory written before a call is visible
// after it (here every function ends with a barrier).
//
// This is the plain form: tree reductions in workgroup memory, log2(WG)+2
// barriers per call. reductions_subgroups.wgsl is the same library on
// subgroup operations; package shaders substitutes it where the device has
// the `subgroups` feature.

var<workgroup> red: array<vec2<f32>, WG>;

// reduce_sum2 sums the two components of v over the workgroup.
fn reduce_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
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

// reduce_sum sums v over the workgroup.
fn reduce_sum(lid: u32, v: f32) -> f32 {
    red[lid].x = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid].x += red[lid + s].x;
        }
        workgroupBarrier();
    }
    let total = red[0].x;
    workgroupBarrier();
    return total;
}

// reduce_max is the maximum of v over the workgroup.
fn reduce_max(lid: u32, v: f32) -> f32 {
    red[lid].x = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid].x = max(red[lid].x, red[lid + s].x);
        }
        workgroupBarrier();
    }
    let total = red[0].x;
    workgroupBarrier();
    return total;
}
