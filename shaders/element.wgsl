// element.wgsl: the element index of a one-thread-per-element kernel. A
// library without bindings or entry points, included with a
// `// #include element.wgsl` line (elementwise.wgsl, gelu.wgsl,
// tokens.wgsl). The including file declares its workgroup size `const WG`.
// The grid may be 2-D (engine/gpu spreads more than
// maxComputeWorkgroupsPerDimension workgroups over y): workgroup
// wid.y * num_workgroups.x + wid.x, thread lid of WG.

fn element(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}
