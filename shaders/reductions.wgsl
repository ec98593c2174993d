// reductions.wgsl: workgroup-wide tree reductions, every thread gets the
// result. A library without bindings or entry points, included with a
// `// #include reductions.wgsl` line by files whose row kernels reduce over
// a workgroup (attention.wgsl, layernorm.wgsl, loss.wgsl). The including
// file declares the workgroup size `const WG` (a power of two) and the
// scratch row `var<workgroup> red: array<f32, WG>`; lid is the thread's
// local_invocation_index. Each ends with a barrier, so red may be reused
// right after.

// reduce_sum sums v over the workgroup.
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

// reduce_max is the maximum of v over the workgroup.
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
