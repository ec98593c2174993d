// reductions_subgroups.wgsl: the library of reductions.wgsl (same
// functions, same contract: the including file declares `const WG`, this
// file the scratch row `red`; called in workgroup-uniform control flow;
// every function ends with a barrier) on subgroup operations. Package
// shaders substitutes it for reductions.wgsl, and puts `enable subgroups;`
// on the including file's first line, when the device has the `subgroups`
// feature.
//
// Subgroup sizes differ between adapters (SwiftShader 4, lavapipe 8, GPUs
// 16-128) and WebGPU does not say which invocations form a subgroup, so
// nothing here assumes a size or a mapping of lid to subgroups:
//   1. s = subgroupAdd(v): every invocation gets its subgroup's sum;
//   2. each subgroup's first invocation (its subgroupExclusiveAdd(1) is 0)
//      writes s to red[lid], every other invocation writes 0 (the max
//      writes s from all invocations: duplicates leave a maximum alone);
//   3. one barrier; then each subgroup reads all WG slots, invocation k
//      of n (k = subgroupExclusiveAdd(1), n = subgroupAdd(1): a partial
//      subgroup counts only its invocations) reading slots k, k+n, ...,
//      and a second subgroupAdd gives every invocation the total;
//   4. a barrier, so red may be written again.
// Two barriers per call instead of log2(WG)+2. The summation order is
// fixed for a given adapter (deterministic) but differs from the tree's:
// the parity tests bound both with the same float32 error analysis.

var<workgroup> red: array<vec2<f32>, WG>;

// reduce_sum2 sums the two components of v over the workgroup.
fn reduce_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    let s = subgroupAdd(v);
    red[lid] = select(vec2<f32>(0.0), s, lane == 0u);
    workgroupBarrier();
    var t = vec2<f32>(0.0);
    for (var k = lane; k < WG; k += lanes) {
        t += red[k];
    }
    let total = subgroupAdd(t);
    workgroupBarrier();
    return total;
}

// reduce_sum sums v over the workgroup.
fn reduce_sum(lid: u32, v: f32) -> f32 {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    let s = subgroupAdd(v);
    red[lid].x = select(0.0, s, lane == 0u);
    workgroupBarrier();
    var t = 0.0;
    for (var k = lane; k < WG; k += lanes) {
        t += red[k].x;
    }
    let total = subgroupAdd(t);
    workgroupBarrier();
    return total;
}

// reduce_max is the maximum of v over the workgroup.
fn reduce_max(lid: u32, v: f32) -> f32 {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    red[lid].x = subgroupMax(v);
    workgroupBarrier();
    var t = red[lane].x;
    for (var k = lane + lanes; k < WG; k += lanes) {
        t = max(t, red[k].x);
    }
    let total = subgroupMax(t);
    workgroupBarrier();
    return total;
}
