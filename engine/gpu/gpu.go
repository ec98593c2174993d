// Package gpu implements backend.Kernels with WGSL compute shaders on
// WebGPU through github.com/oliverbestmann/webgpu: wgpu-native when built
// natively (Vulkan first, so Mesa's lavapipe is found on machines without a
// GPU), the browser's navigator.gpu under GOOS=js.
//
// Execution model:
//   - Buffers are plain storage buffers of float32 (or int32) elements. A
//     backend.View (buffer, offset, length) is bound as the whole buffer when
//     the buffer fits one storage binding, otherwise as an aligned window of
//     the buffer that contains the view; the residual element offset goes to
//     the kernel in its uniform block. So views of one flat parameter buffer
//     larger than maxStorageBufferBindingSize (the `base` preset's 448 MB)
//     work as long as each view fits a binding; elementwise kernels (AdamW,
//     Zero, Copy, Add, GELU) split larger views into chunks.
//   - Pipelines, bind group layouts and bind groups are created once and
//     cached (bind groups by pipeline layout and bound ranges); per-dispatch
//     parameters are written into a host-side uniform arena that is uploaded
//     with one writeBuffer per submit and bound with dynamic offsets. In a
//     steady-state training step no GPU object is created.
//   - Every kernel is recorded into one command encoder and one compute pass;
//     Submit finishes and submits it; Read submits pending work, copies the
//     view to a staging buffer and maps it. Write submits pending work first
//     so that it is ordered after the kernels issued before it.
//   - Kernel methods cannot return errors (the backend.Kernels contract):
//     device-side failures (limits exceeded, shader compile or validation
//     errors, device loss) are recorded and returned once by the next Submit
//     or Read; the work recorded since the last submit is dropped and the
//     kernels issued after the failure are skipped. Device loss stays
//     reported (ErrDeviceLost) until the backend is replaced. Programming
//     errors (mismatched view lengths, views of another backend, a uniform
//     field the kernel's file does not declare or a launcher leaves unset)
//     panic, as in engine/cpu.
//   - In the browser (GOOS=js) pipeline and bind-group creation await
//     error scopes and Read awaits mapAsync: use the backend from a
//     goroutine, never from inside a JavaScript callback.
//
// Files: gpu.go (Backend, New, Release), device_native.go / device_js.go
// (opening the device), pipeline.go (shader sources, specialisation,
// layouts, pipelines), precompile.go with precompile_native.go /
// precompile_js.go (Compile: a workload's pipelines up front, in parallel
// in the browser, with progress), contract.go (each WGSL file's bindings and uniform
// fields, read from its source; a dispatch's call), kernels.go and one file
// per shader family (matmul.go, layernorm.go, attention.go, tokens.go,
// loss.go: the backend.Kernels launchers), buffers.go, bindings.go
// (binding windows, bind groups, read-only staging), record.go (the
// recorder and its uniform arena), commands.go (commands issued through the
// binding), dispatch.go (dispatch and Submit), transfer.go (Write, Read and
// the readback buffer), errors.go; in the browser also errorscope_js.go,
// upload_js.go, replay_js.go with replay_ops.go and commands.js (the
// replayed command list), profile_js.go.
package gpu

import (
	"context"
	"fmt"
	"strings"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
	"webmae/shaders"
)

// Info describes the adapter and device a Backend runs on.
type Info struct {
	Adapter     string   // device name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Vendor      string   // vendor string, if the platform reports one
	Description string   // driver description, if reported
	Backend     string   // "vulkan", "metal", "webgpu" (browser), ...
	AdapterType string   // "cpu", "discrete-gpu", ... ("" when unknown)
	Features    []string // adapter features, e.g. "shader-f16"
	Subgroups   bool     // the device was opened with the `subgroups` feature
	Limits      Limits   // the limits granted to the device
}

// Limits are the device limits the backend depends on.
type Limits struct {
	MaxStorageBufferBindingSize     uint64
	MaxBufferSize                   uint64
	MinStorageBufferOffsetAlignment uint32
	MinUniformBufferOffsetAlignment uint32
	MaxComputeWorkgroupStorageSize  uint32
	MaxComputeInvocationsPerWG      uint32
	MaxComputeWorkgroupsPerDim      uint32
	MaxStorageBuffersPerStage       uint32
}

// required returns what the shaders need from any device (WebGPU's default
// limits provide it).
func required() Limits {
	return Limits{
		MaxComputeWorkgroupStorageSize: 16384, // attention: (2*MAX_T + MAX_HD + WG) floats
		MaxComputeInvocationsPerWG:     256,
		MaxStorageBuffersPerStage:      7, // layernorm
	}
}

// check reports the first limit of l below the requirements.
func (l Limits) check() error {
	requirements := required()
	switch {
	case l.MaxComputeWorkgroupStorageSize < requirements.MaxComputeWorkgroupStorageSize:
		return fmt.Errorf("gpu: device maxComputeWorkgroupStorageSize %d < %d needed", l.MaxComputeWorkgroupStorageSize, requirements.MaxComputeWorkgroupStorageSize)
	case l.MaxComputeInvocationsPerWG < requirements.MaxComputeInvocationsPerWG:
		return fmt.Errorf("gpu: device maxComputeInvocationsPerWorkgroup %d < %d needed", l.MaxComputeInvocationsPerWG, requirements.MaxComputeInvocationsPerWG)
	case l.MaxStorageBuffersPerStage < requirements.MaxStorageBuffersPerStage:
		return fmt.Errorf("gpu: device maxStorageBuffersPerShaderStage %d < %d needed", l.MaxStorageBuffersPerStage, requirements.MaxStorageBuffersPerStage)
	case l.MaxComputeWorkgroupsPerDim < 1024:
		return fmt.Errorf("gpu: device maxComputeWorkgroupsPerDimension %d is too small", l.MaxComputeWorkgroupsPerDim)
	case l.MinStorageBufferOffsetAlignment == 0 || l.MinStorageBufferOffsetAlignment&(l.MinStorageBufferOffsetAlignment-1) != 0:
		return fmt.Errorf("gpu: device minStorageBufferOffsetAlignment %d is not a power of two", l.MinStorageBufferOffsetAlignment)
	}
	return nil
}

// Backend is the WebGPU implementation of backend.Kernels. It is not safe
// for concurrent use.
type Backend struct {
	dev   *device // platform handles (device_native.go, device_js.go)
	info  Info
	queue *wgpu.Queue

	// bind windows (see bindRange)
	align      uint64 // storage offset alignment, bytes
	window     uint64 // largest binding size used, bytes, multiple of align
	halfWindow uint64 // window grid step, bytes
	chunk      int    // largest view an elementwise dispatch takes, elements

	variant   shaders.Variant   // library forms of the modules compiled now
	shaders   map[string]string // specialised WGSL by module key
	modules   map[string]*wgpu.ShaderModule
	layouts   map[layoutKey]*layout
	pipelines map[pipeKey]*pipeline
	groups    map[groupKey]*wgpu.BindGroup

	rec    recorder
	replay commands // the browser's replayed command list (nil natively)

	// dummies are bound to unused binding slots, one buffer per slot:
	// browsers reject two writable bindings of one buffer in a dispatch.
	dummies  [maxSlots]*wgpu.Buffer
	staging  *wgpu.Buffer // readback
	stageLen uint64
	scratch  map[string]*Buffer
	buffers  []*Buffer // every buffer made, destroyed by Release

	// attentionRows caps attention.wgsl's workgroup rows (MAX_T; tests
	// lower it to exercise the chunked long-sequence paths on short ones).
	attentionRows int
	// attentionWG is the threads of an attention.wgsl workgroup
	// (UseAttentionWorkgroup).
	attentionWG int
	// matmulRows is the tallest matmul tile (UseMatmulTileRows).
	matmulRows int
	// matmulDirect: products that read as vec4 take matmul_direct
	// (UseMatmulDirect).
	matmulDirect bool

	err      error // first device-side error; sticky
	released bool
}

var _ backend.Kernels = (*Backend)(nil)

// New opens the default WebGPU adapter and device (natively: Vulkan first,
// then any backend wgpu-native supports) with the adapter's larger limits.
func New(ctx context.Context) (*Backend, error) {
	dev, info, err := openDevice(ctx)
	if err != nil {
		return nil, err
	}
	if err := info.Limits.check(); err != nil {
		dev.release()
		return nil, fmt.Errorf("%w (adapter %s)", err, info.Adapter)
	}
	b := &Backend{
		dev:       dev,
		info:      info,
		queue:     dev.device.GetQueue(),
		shaders:   map[string]string{},
		modules:   map[string]*wgpu.ShaderModule{},
		layouts:   map[layoutKey]*layout{},
		pipelines: map[pipeKey]*pipeline{},
		groups:    map[groupKey]*wgpu.BindGroup{},
		scratch:   map[string]*Buffer{},

		attentionRows: attentionMaxT,
		attentionWG:   attentionWorkgroup(info),
		matmulRows:    matmulMaxRows(info),
		matmulDirect:  info.software(),
		variant:       shaders.Variant{Subgroups: info.Subgroups, NoEnable: !wgslEnablesSubgroups},
	}
	l := info.Limits
	b.align = uint64(l.MinStorageBufferOffsetAlignment)
	b.setBindWindow(min(l.MaxStorageBufferBindingSize, l.MaxBufferSize))
	if err := b.init(); err != nil {
		b.Release()
		return nil, err
	}
	return b, nil
}

// LimitBindings makes the backend bind at most bytes per storage binding
// (rounded down to the offset alignment; never more than the device
// allows), as on a device with that maxStorageBufferBindingSize: views of
// larger buffers are bound through windows and elementwise kernels run in
// chunks. The browser self-test uses it to exercise windowed bindings on
// adapters with large limits. Call it before recording work.
func (b *Backend) LimitBindings(bytes uint64) {
	if b.rec.cmd.open() {
		panic("gpu: LimitBindings with recorded work pending")
	}
	lim := min(b.info.Limits.MaxStorageBufferBindingSize, b.info.Limits.MaxBufferSize)
	if bytes < 4*b.align || bytes > lim {
		bytes = lim
	}
	b.setBindWindow(bytes)
}

// UseSubgroups selects the reductions' form for the kernels recorded from
// now on: on subgroup operations (on, the default where the device has the
// `subgroups` feature) or the plain workgroup-memory trees (off). Both forms'
// pipelines stay cached. Parity tests and the browser self-test use it to
// check both on one device.
func (b *Backend) UseSubgroups(on bool) error {
	if on && !b.info.Subgroups {
		return fmt.Errorf("gpu: %s has no subgroups feature", b.info.Adapter)
	}
	b.variant.Subgroups = on
	return nil
}

// UseAttentionWorkgroup sets the threads of an attention workgroup for the
// kernels recorded from now on: a power of two from 4 to 256 (the default
// is attentionWorkgroup's choice for the adapter). Tests and /bench use it
// to run and measure both sizes on one adapter.
func (b *Backend) UseAttentionWorkgroup(threads int) error {
	if threads < 4 || threads > 256 || threads&(threads-1) != 0 {
		return fmt.Errorf("gpu: attention workgroup of %d threads: want a power of two from 4 to 256", threads)
	}
	b.attentionWG = threads
	return nil
}

// AttentionWorkgroup is the threads of an attention workgroup now.
func (b *Backend) AttentionWorkgroup() int { return b.attentionWG }

// Subgroups reports whether the kernels recorded now use subgroup
// operations.
func (b *Backend) Subgroups() bool { return b.variant.Subgroups }

// BindingLimit is the largest storage binding the backend uses, bytes.
func (b *Backend) BindingLimit() uint64 { return b.window }

// setBindWindow sets the largest storage binding the backend uses (the
// device limit; tests lower it to exercise windowed bindings and chunking
// with small buffers).
func (b *Backend) setBindWindow(bytes uint64) {
	b.window = bytes &^ (b.align - 1)
	b.halfWindow = (b.window / 2) &^ (b.align - 1)
	b.chunk = int(b.halfWindow / 4)
}

// init creates the objects every dispatch needs.
func (b *Backend) init() error {
	for i := range b.dummies {
		var err error
		b.dummies[i], err = b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
			Label: fmt.Sprintf("webmae dummy binding %d", i+1),
			Size:  16,
			Usage: wgpu.BufferUsageStorage,
		})
		if err != nil {
			return fmt.Errorf("gpu: create dummy buffer: %w", err)
		}
	}
	return b.rec.init(b)
}

// Info returns the adapter description and granted limits.
func (b *Backend) Info() Info { return b.info }

// Name implements backend.Kernels: "gpu: <adapter> (<backend>)".
func (b *Backend) Name() string {
	return fmt.Sprintf("gpu: %s (%s)", b.info.Adapter, b.info.Backend)
}

// String is a one-line report: name, adapter type and features.
func (info Info) String() string {
	s := fmt.Sprintf("%s (%s", info.Adapter, info.Backend)
	if info.AdapterType != "" {
		s += ", " + info.AdapterType
	}
	s += ")"
	if info.Description != "" {
		s += " " + info.Description
	}
	if len(info.Features) > 0 {
		s += " features: " + strings.Join(info.Features, " ")
	}
	return s
}

// Err returns the first device-side error recorded so far, if any, without
// submitting.
func (b *Backend) Err() error { return b.err }

// fail records err as the backend's sticky error (the first one wins).
func (b *Backend) fail(err error) {
	if b.err == nil {
		b.err = classify(err)
	}
}

// Release implements backend.Kernels: it frees every buffer, pipeline and the
// device. The backend must not be used afterwards.
func (b *Backend) Release() {
	if b.released {
		return
	}
	b.released = true
	b.rec.release()
	for _, g := range b.groups {
		g.Release()
	}
	for _, p := range b.pipelines {
		p.pipe.Release()
	}
	for _, l := range b.layouts {
		l.pipeLayout.Release()
		l.groupLayout.Release()
	}
	for _, m := range b.modules {
		m.Release()
	}
	for _, buf := range b.buffers {
		if buf.buf != nil {
			buf.buf.Destroy()
			buf.buf.Release()
			buf.buf = nil
		}
	}
	for _, buf := range append(b.dummies[:], b.staging) {
		if buf != nil {
			buf.Destroy()
			buf.Release()
		}
	}
	b.groups, b.pipelines, b.layouts, b.modules, b.buffers = nil, nil, nil, nil, nil
	if b.queue != nil {
		b.queue.Release()
	}
	b.dev.release()
}
