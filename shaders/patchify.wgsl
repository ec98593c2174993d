// patchify.wgsl: images (B, C, H, W) -> patches (B, L, P*P*C).
//
// L = (H/P) * (W/P) patches in row-major grid order; each patch vector is in
// (p, q, c) order, channel fastest:
//   patches[b, gh*(W/P) + gw, (p*P + q)*C + c] = images[b, c, gh*P + p, gw*P + q]
// Both tensors are row-major f32 at element offsets off_patches / off_images.
// One thread writes one patch element (consecutive threads walk channels,
// then columns of a patch row); a workgroup writes WG consecutive elements;
// linear workgroup index wid.y * num_workgroups.x + wid.x.

const WG = 256u;

struct Params {
    n: u32, // B * L * P * P * C
    c: u32,
    h: u32,
    w: u32,
    p: u32,
    off_patches: u32,
    off_images: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> patches: array<f32>;
@group(0) @binding(2) var<storage, read_write> images: array<f32>;

@compute @workgroup_size(WG)
fn patchify(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
    let e = (wid.y * nwg.x + wid.x) * WG + lid;
    if (e >= P.n) {
        return;
    }
    let ps = P.p;
    let vec_len = ps * ps * P.c;
    let gw_n = P.w / ps;
    let l_n = (P.h / ps) * gw_n;
    let v = e % vec_len;
    let r = e / vec_len; // b * L + l
    let b = r / l_n;
    let l = r % l_n;
    let ch = v % P.c;
    let q = (v / P.c) % ps;
    let p = v / (P.c * ps);
    let gh = l / gw_n;
    let gw = l % gw_n;
    let y = gh * ps + p;
    let x = gw * ps + q;
    patches[P.off_patches + e] = images[P.off_images + ((b * P.c + ch) * P.h + y) * P.w + x];
}
