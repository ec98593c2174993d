// reductions_subgroups.wgsl: the library of reductions.wgsl (same
// functions, same contract: the including file declares `const WG`, this
// file its scratch (`red`, `red_total`); called in workgroup-uniform
// control flow; workgroup memory written before a call is visible after
// it) on subgroup operations. Package shaders substitutes it for
// reductions.wgsl, and puts `enable subgroups;` on the including file's
// first line, when the device has the `subgroups` feature.
//
// Subgroup sizes differ between adapters (WebGPU allows 4 to 128; lavapipe
// runs 8) and WebGPU does not say which invocations form a subgroup, so
// nothing here assumes a size or a mapping of lid to subgroups:
//   1. s = subgroupAdd(v): every invocation gets its subgroup's sum;
//   2. each subgroup's first invocation (its subgroupExclusiveAdd(1) is 0)
//      writes s to red[lid], every other invocation writes 0 (the max
//      writes s from all invocations: duplicates leave a maximum alone);
//   3. a barrier; then the subgroup that holds invocation 0 (subgroupAny)
//      reads all WG slots, its invocation k of n (k = subgroupExclusiveAdd(1),
//      n = subgroupAdd(1): a partial subgroup counts only its invocations)
//      reading slots k, k+n, ..., a second subgroupAdd gives it the total,
//      and invocation 0 writes it to red_total (the other subgroups run the
//      loop zero times: the subgroup operations stay in uniform control
//      flow);
//   4. a barrier; every invocation reads red_total.
// Two barriers per call instead of log2(WG)+2, and WG reads in stage 3. A
// next call writes red and red_total only after its first barrier, which
// every invocation reaches after reading this call's red_total. The
// summation order is fixed for a given adapter (deterministic) but differs
// from the tree's: the parity tests bound both with the same float32 error
// analysis.

var<workgroup> red: array<vec2<f32>, WG>;
var<workgroup> red_total: vec2<f32>;

// combine2 is stages 3 and 4 for two sums: red holds one value per
// subgroup (zeros elsewhere).
fn combine2(lid: u32, lane: u32, lanes: u32) -> vec2<f32> {
    let n = select(0u, WG, subgroupAny(lid == 0u));
    var t = vec2<f32>(0.0);
    for (var k = lane; k < n; k += lanes) {
        t += red[k];
    }
    let total = subgroupAdd(t);
    if (lid == 0u) {
        red_total = total;
    }
    workgroupBarrier();
    return red_total;
}

// reduce_sum2 sums the two components of v over the workgroup.
fn reduce_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    let s = subgroupAdd(v);
    red[lid] = select(vec2<f32>(0.0), s, lane == 0u);
    workgroupBarrier();
    return combine2(lid, lane, lanes);
}

// reduce_sum sums v over the workgroup.
fn reduce_sum(lid: u32, v: f32) -> f32 {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    let s = subgroupAdd(v);
    red[lid] = vec2<f32>(select(0.0, s, lane == 0u), 0.0);
    workgroupBarrier();
    return combine2(lid, lane, lanes).x;
}

// reduce_max is the maximum of v over the workgroup.
fn reduce_max(lid: u32, v: f32) -> f32 {
    let lane = subgroupExclusiveAdd(1u);
    let lanes = subgroupAdd(1u);
    red[lid].x = subgroupMax(v);
    workgroupBarrier();
    let n = select(0u, WG, subgroupAny(lid == 0u));
    var t = red[lane].x;
    for (var k = lane + lanes; k < n; k += lanes) {
        t = max(t, red[k].x);
    }
    let total = subgroupMax(t);
    if (lid == 0u) {
        red_total.x = total;
    }
    workgroupBarrier();
    return red_total.x;
}
