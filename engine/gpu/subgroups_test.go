package gpu

import (
	"math/bits"
	"testing"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
)

// reductionForms runs fn once per form of the workgroup reductions the
// device offers (reductions.wgsl, and reductions_subgroups.wgsl where the
// device has the subgroups feature: lavapipe does), as subtests "plain"
// and "subgroups", on the shared backend, and restores its default.
func reductionForms(t *testing.T, fn func(t *testing.T)) {
	g := gpuBackend(t)
	def := g.Subgroups()
	defer g.UseSubgroups(def)
	forms := []bool{false}
	if g.Info().Subgroups {
		forms = append(forms, true)
	} else {
		t.Logf("%s has no subgroups feature: the plain reductions only", g.Info().Adapter)
	}
	for _, on := range forms {
		name := "plain"
		if on {
			name = "subgroups"
		}
		if err := g.UseSubgroups(on); err != nil {
			t.Fatal(err)
		}
		t.Run(name, fn)
	}
}

// reduceChain is the longest chain of dependent float32 roundings in one
// reduction over a workgroup of wg threads (each thread's own strided sum
// is counted by the caller) in the backend's current form:
//   - plain: a tree in workgroup memory, log2(wg) levels;
//   - subgroups of s invocations: subgroupAdd (order unspecified: at most
//     s-1 additions), a lane's serial sum of wg/s slots, subgroupAdd again.
//     s is the size the device runs (probed; 4-128 in WebGPU); a subgroup
//     larger than the workgroup holds wg invocations.
func reduceChain(t *testing.T, g *Backend, wg int) int {
	if !g.Subgroups() {
		return bits.Len(uint(wg)) - 1
	}
	s := min(subgroupSize(t, g), wg)
	return 2*(s-1) + (wg+s-1)/s
}

// subgroupSize probes the largest subgroup_size a compute shader of 128
// invocations sees on g's device (cached).
func subgroupSize(t *testing.T, g *Backend) int {
	t.Helper()
	if probedSubgroupSize > 0 {
		return probedSubgroupSize
	}
	const wg = 128
	src := `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(128)
fn probe(@builtin(subgroup_size) s: u32, @builtin(local_invocation_index) i: u32) {
    o[i] = f32(s);
}`
	if wgslEnablesSubgroups {
		src = "enable subgroups;\n" + src
	}
	dev := g.dev.device
	mod, err := dev.TryCreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: "subgroup size probe", WGSLSource: &wgpu.ShaderSourceWGSL{Code: src}})
	if err != nil {
		t.Fatalf("subgroup size probe: %v", err)
	}
	defer mod.Release()
	pipe, err := dev.TryCreateComputePipeline(&wgpu.ComputePipelineDescriptor{Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "probe"}})
	if err != nil {
		t.Fatalf("subgroup size probe: %v", err)
	}
	defer pipe.Release()
	out := g.NewBuffer(wg)
	group, err := dev.TryCreateBindGroup(&wgpu.BindGroupDescriptor{
		Layout:  pipe.GetBindGroupLayout(0),
		Entries: []wgpu.BindGroupEntry{{Binding: 0, Buffer: out.(*Buffer).buf, Size: 4 * wg}},
	})
	if err != nil {
		t.Fatalf("subgroup size probe: %v", err)
	}
	defer group.Release()
	if err := g.Submit(); err != nil { // pending kernels first
		t.Fatal(err)
	}
	enc, err := dev.TryCreateCommandEncoder(nil)
	if err != nil {
		t.Fatal(err)
	}
	pass := enc.BeginComputePass(nil)
	pass.SetPipeline(pipe)
	pass.SetBindGroup(0, group, nil)
	pass.DispatchWorkgroups(1, 1, 1)
	if err := pass.TryEnd(); err != nil {
		t.Fatal(err)
	}
	cmd, err := enc.TryFinish(nil)
	if err != nil {
		t.Fatal(err)
	}
	g.queue.Submit(cmd)
	vals := make([]float32, wg)
	if err := g.Read(backend.Whole(out), vals); err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		probedSubgroupSize = max(probedSubgroupSize, int(v))
	}
	if probedSubgroupSize < 1 || probedSubgroupSize > 128 {
		t.Fatalf("subgroup size probe read %v", vals)
	}
	t.Logf("subgroup size %d", probedSubgroupSize)
	return probedSubgroupSize
}

var probedSubgroupSize int
