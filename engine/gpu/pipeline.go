package gpu

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/shaders"
)

// kernel names one compute entry point of a WGSL file; its bindings and
// uniform block are the file's contract (contract.go).
type kernel struct {
	file  string // in package shaders, e.g. "matmul.wgsl"
	entry string // entry point
	spec  string // specialisations: bool consts set to true, NAME=V integer consts
}

type layoutKey struct {
	slots int
	ro    uint8
}

// pipeKey names a compiled pipeline: the kernel and the library form its
// module was built with.
type pipeKey struct {
	file, entry, spec string
	variant           shaders.Variant
}

// pipeKeyOf is the key of k's pipeline in the backend's current variant.
func (b *Backend) pipeKeyOf(k kernel) pipeKey {
	return pipeKey{k.file, k.entry, k.spec, b.variant}
}

// moduleKey names k's shader module (and source) in the current variant.
func (b *Backend) moduleKey(k kernel) string {
	key := k.file + "|" + k.spec
	if b.variant.Subgroups {
		key += "|subgroups"
	}
	return key
}

// layout is the bind group and pipeline layout shared by every kernel with
// the same storage slots: binding 0 a uniform block with a dynamic offset,
// bindings 1..slots storage buffers (read-only where ro has bit i set: the
// file declares binding i var<storage, read>).
type layout struct {
	slots       int
	ro          uint8
	groupLayout *wgpu.BindGroupLayout
	pipeLayout  *wgpu.PipelineLayout
}

// pipeline is a compiled kernel plus what its source declares: the
// integer consts (workgroup and tile sizes) and the contract (bindings and
// uniform fields), so the host never restates them.
type pipeline struct {
	k        kernel
	pipe     *wgpu.ComputePipeline
	layout   *layout
	consts   map[string]int
	contract *contract
}

// constant returns the WGSL const name of the kernel's source; a missing
// const is a bug in this package.
func (p *pipeline) constant(name string) int {
	v, ok := p.consts[name]
	if !ok {
		panic(fmt.Sprintf("gpu: %s has no const %s", p.k.file, name))
	}
	return v
}

var constDecl = regexp.MustCompile(`(?m)^const ([A-Za-z_][A-Za-z0-9_]*) = (\d+)u;`)

// parseConsts collects the top-level `const NAME = <int>u;` lines of src.
func parseConsts(src string) map[string]int {
	out := map[string]int{}
	for _, m := range constDecl.FindAllStringSubmatch(src, -1) {
		v, err := strconv.Atoi(m[2])
		if err == nil {
			out[m[1]] = v
		}
	}
	return out
}

// specialise sets the listed `const NAME = false;` lines of src to true,
// and for items NAME=V the line `const NAME = <integer>u;` to V.
func specialise(file, src, spec string) (string, error) {
	if spec == "" {
		return src, nil
	}
	for _, name := range strings.Split(spec, ",") {
		if n, v, ok := strings.Cut(name, "="); ok {
			re := regexp.MustCompile(`(?m)^const ` + regexp.QuoteMeta(n) + ` = \d+u;`)
			if _, err := strconv.ParseUint(v, 10, 32); err != nil || len(re.FindAllString(src, -1)) != 1 {
				return "", fmt.Errorf("gpu: %s: specialisation %q needs an unsigned value and exactly one line `const %s = <integer>u;`", file, name, n)
			}
			src = re.ReplaceAllLiteralString(src, "const "+n+" = "+v+"u;")
			continue
		}
		decl := "const " + name + " = false;"
		if strings.Count(src, decl) != 1 {
			return "", fmt.Errorf("gpu: %s: specialisation %q needs exactly one line %q", file, name, decl)
		}
		src = strings.Replace(src, decl, "const "+name+" = true; ", 1)
	}
	return src, nil
}

// source returns the specialised WGSL of a kernel (cached).
func (b *Backend) source(k kernel) (string, error) {
	key := b.moduleKey(k)
	if s, ok := b.shaders[key]; ok {
		return s, nil
	}
	src, err := shaders.Source(k.file, b.variant)
	if err != nil {
		return "", fmt.Errorf("gpu: %w", err)
	}
	src, err = specialise(k.file, src, k.spec)
	if err != nil {
		return "", err
	}
	b.shaders[key] = src
	return src, nil
}

// module compiles (once) the shader module of a kernel.
func (b *Backend) module(k kernel) (*wgpu.ShaderModule, string, error) {
	src, err := b.source(k)
	if err != nil {
		return nil, "", err
	}
	key := b.moduleKey(k)
	if m, ok := b.modules[key]; ok {
		return m, src, nil
	}
	var mod *wgpu.ShaderModule
	err = b.errorScope(func() error {
		var err error
		mod, err = b.dev.device.TryCreateShaderModule(&wgpu.ShaderModuleDescriptor{
			Label:      k.file,
			WGSLSource: &wgpu.ShaderSourceWGSL{Code: src},
		})
		if err != nil {
			return err
		}
		return b.compilationError(mod)
	})
	if err != nil {
		var se *ShaderError
		if errors.As(err, &se) {
			se.File, se.Entry = k.file, k.entry
			se.Text = sourceLine(src, se.Line)
			return nil, "", se
		}
		return nil, "", shaderError(k.file, k.entry, src, err)
	}
	b.modules[key] = mod
	return mod, src, nil
}

// layoutFor returns (creating once) the layout with the given storage slots.
func (b *Backend) layoutFor(slots int, ro uint8) (*layout, error) {
	key := layoutKey{slots, ro}
	if l, ok := b.layouts[key]; ok {
		return l, nil
	}
	entries := []wgpu.BindGroupLayoutEntry{{
		Binding:    0,
		Visibility: wgpu.ShaderStageCompute,
		Buffer: wgpu.BufferBindingLayout{
			Type:             wgpu.BufferBindingTypeUniform,
			HasDynamicOffset: true,
		},
	}}
	for i := 1; i <= slots; i++ {
		t := wgpu.BufferBindingTypeStorage
		if ro&(1<<i) != 0 {
			t = wgpu.BufferBindingTypeReadOnlyStorage
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{
			Binding:    uint32(i),
			Visibility: wgpu.ShaderStageCompute,
			Buffer:     wgpu.BufferBindingLayout{Type: t},
		})
	}
	l := &layout{slots: slots, ro: ro}
	err := b.errorScope(func() error {
		var err error
		l.groupLayout, err = b.dev.device.TryCreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{
			Label:   fmt.Sprintf("webmae %d storage slots, read-only %b", slots, ro),
			Entries: entries,
		})
		if err != nil {
			return err
		}
		l.pipeLayout, err = b.dev.device.TryCreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{
			Label:            fmt.Sprintf("webmae %d storage slots, read-only %b", slots, ro),
			BindGroupLayouts: []*wgpu.BindGroupLayout{l.groupLayout},
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: create layout with %d storage slots: %w", slots, err)
	}
	b.layouts[key] = l
	return l, nil
}

// pipeline returns the compiled pipeline of k, creating it on first use.
func (b *Backend) pipeline(k kernel) (*pipeline, error) {
	key := b.pipeKeyOf(k)
	if p, ok := b.pipelines[key]; ok {
		return p, nil
	}
	p, mod, src, err := b.prepare(k)
	if err != nil {
		return nil, err
	}
	err = b.errorScope(func() error {
		var err error
		p.pipe, err = b.dev.device.TryCreateComputePipeline(&wgpu.ComputePipelineDescriptor{
			Layout: p.layout.pipeLayout,
			Compute: wgpu.ProgrammableStageDescriptor{
				Module:     mod,
				EntryPoint: k.entry,
			},
		})
		return err
	})
	if err != nil {
		// Validation of the entry point against the layout (and, in
		// browsers, deferred compile errors) surface here.
		return nil, shaderError(k.file, k.entry, src, err)
	}
	b.pipelines[key] = p
	return p, nil
}

// Warm compiles every pipeline the backend uses, so that compile errors and
// compile time show up at start-up rather than in the first training step.
func (b *Backend) Warm() error {
	for _, k := range allKernels() {
		if _, err := b.pipeline(k); err != nil {
			return err
		}
	}
	return nil
}
