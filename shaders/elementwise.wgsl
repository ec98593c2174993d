// elementwise.wgsl: Zero, Copy, Add and AddBroadcast over flat f32 ranges.
//
// Layout: dst and src are contiguous f32 ranges starting at element offsets
// off_dst and off_src of their bindings; n is the number of elements of dst.
// AddBroadcast: dst is (n / inner, inner) row-major and src has length
// inner: dst[r, j] += src[j].
//
// One thread handles one element of dst; a workgroup handles WG consecutive
// elements. The dispatch grid may be 2-D (x * y workgroups) when n / WG is
// over the 65535 per-dimension limit: the linear workgroup index is
// wid.y * num_workgroups.x + wid.x.

const WG = 256u;

struct Params {
    n: u32,
    off_dst: u32,
    off_src: u32,
    inner: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> src: array<f32>;

@compute @workgroup_size(WG)
fn zero(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        dst[P.off_dst + i] = 0.0;
    }
}

@compute @workgroup_size(WG)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        dst[P.off_dst + i] = src[P.off_src + i];
    }
}

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        dst[P.off_dst + i] = dst[P.off_dst + i] + src[P.off_src + i];
    }
}

@compute @workgroup_size(WG)
fn add_broadcast(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = element(wid, nwg, lid);
    if (i < P.n) {
        dst[P.off_dst + i] = dst[P.off_dst + i] + src[P.off_src + i % P.inner];
    }
}

// #include element.wgsl
