package gpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
)

const (
	maxSlots    = 8    // storage bindings per kernel, at most
	paramWords  = 32   // uniform block words per dispatch, at most
	arenaSlots  = 4096 // dispatches per uniform upload; more flush mid-step
	minSlotSize = 256  // uniform slot stride, bytes (>= minUniformBufferOffsetAlignment)
)

// recorder accumulates dispatches into one command encoder and compute pass,
// with their parameter blocks in a host-side uniform arena that is uploaded
// with a single writeBuffer right before the submit.
type recorder struct {
	arena    *wgpu.Buffer
	data     []byte // host copy of the arena
	slotSize int
	used     int // slots used in the current encoder

	cmd     commands // where commands go (direct, or replay in the browser)
	direct  *directCommands
	last    *pipeline // pipeline bound in the open pass
	pending int       // commands recorded since the last submit
	stats   Stats

	profiling bool     // record the kernel of every dispatch in names
	names     []string // (see Profile)
}

// KernelTime is one kernel's share of a profiled piece of work.
type KernelTime struct {
	Kernel string  `json:"kernel"` // entry point [specialisation]
	Count  int     `json:"count"`  // dispatches
	Ms     float64 `json:"ms"`     // wall time of its dispatches, each submitted alone
}

// commands records the work of one submit. directCommands calls the
// binding for every command; in the browser, replayCommands
// (device_js.go) appends them to a list that one JavaScript call encodes
// and submits, because each Go->JS call costs microseconds and a training
// step has hundreds of dispatches of three calls each.
type commands interface {
	open() bool   // something was recorded since the last submit
	begin() error // open the command encoder (and report its creation error)
	setPipeline(p *wgpu.ComputePipeline)
	setBindGroup(g *wgpu.BindGroup, off uint32)
	dispatch(x, y uint32)
	copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error
	submit(arena *wgpu.Buffer, data []byte) error // upload data to arena, finish, submit
	drop()                                        // abandon what was recorded
}

// directCommands issues every command through the binding.
type directCommands struct {
	b       *Backend
	encoder *wgpu.CommandEncoder
	pass    *wgpu.ComputePassEncoder
	offsets [1]uint32
}

func (d *directCommands) open() bool { return d.encoder != nil }

func (d *directCommands) begin() error {
	if d.encoder == nil {
		enc, err := d.b.dev.device.TryCreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "webmae step"})
		if err != nil {
			return fmt.Errorf("gpu: create command encoder: %w", err)
		}
		d.encoder = enc
		d.b.rec.stats.Calls++
	}
	return nil
}

func (d *directCommands) setPipeline(p *wgpu.ComputePipeline) {
	if d.pass == nil {
		d.pass = d.encoder.BeginComputePass(&wgpu.ComputePassDescriptor{Label: "webmae kernels"})
		d.b.rec.stats.Calls++
	}
	d.pass.SetPipeline(p)
	d.b.rec.stats.Calls++
}

func (d *directCommands) setBindGroup(g *wgpu.BindGroup, off uint32) {
	d.offsets[0] = off
	d.pass.SetBindGroup(0, g, d.offsets[:])
	d.b.rec.stats.Calls++
}

func (d *directCommands) dispatch(x, y uint32) {
	d.pass.DispatchWorkgroups(x, y, 1)
	d.b.rec.stats.Calls++
}

func (d *directCommands) endPass() error {
	if d.pass == nil {
		return nil
	}
	err := d.pass.TryEnd()
	d.pass.Release()
	d.pass = nil
	d.b.rec.stats.Calls++
	if err != nil {
		return fmt.Errorf("gpu: compute pass: %w", err)
	}
	return nil
}

func (d *directCommands) copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error {
	if err := d.endPass(); err != nil {
		return err
	}
	d.b.rec.stats.Calls++
	return d.encoder.TryCopyBufferToBuffer(src, srcOff, dst, dstOff, size)
}

func (d *directCommands) submit(arena *wgpu.Buffer, data []byte) error {
	if err := d.endPass(); err != nil {
		return err
	}
	if len(data) > 0 {
		if err := d.b.writeBuffer(arena, 0, data); err != nil {
			return fmt.Errorf("gpu: upload kernel parameters: %w", err)
		}
	}
	cmd, err := d.encoder.TryFinish(nil)
	d.encoder.Release()
	d.encoder = nil
	if err != nil {
		return fmt.Errorf("gpu: finish command encoder: %w", err)
	}
	d.b.queue.Submit(cmd)
	cmd.Release()
	d.b.rec.stats.Calls += 3 // upload, finish, submit
	return nil
}

func (d *directCommands) drop() {
	if d.pass != nil {
		_ = d.pass.TryEnd()
		d.pass.Release()
		d.pass = nil
	}
	if d.encoder != nil {
		d.encoder.Release()
		d.encoder = nil
	}
}

// SetReplay chooses, in the browser, between recording a submit's commands
// into a list replayed by one JavaScript call (the default) and calling
// WebGPU from Go for each (to measure the difference). Natively every
// command goes through wgpu-native directly and SetReplay does nothing.
// Call it between submits.
func (b *Backend) SetReplay(on bool) {
	if b.rec.cmd.open() {
		panic("gpu: SetReplay with recorded work pending")
	}
	if on && b.replay != nil {
		b.rec.cmd = b.replay
	} else {
		b.rec.cmd = b.rec.direct
	}
}

// Replay reports whether commands are replayed from a list.
func (b *Backend) Replay() bool { return b.replay != nil && b.rec.cmd == b.replay }

// Stats counts what the backend issued: dispatches, submits and the calls
// from Go into the device API while recording and submitting: WebGPU calls
// through the binding (natively, or in the browser with SetReplay(false);
// in the browser each is one or more Go->JS crossings), or, replaying, the
// JavaScript calls (copy the command list, copy the parameters, replay;
// plus one per object used for the first time). Creating pipelines, bind
// groups and buffers is not counted. The /bench page reports them per
// training step.
type Stats struct {
	Dispatches int64 `json:"dispatches"`
	Submits    int64 `json:"submits"`
	Calls      int64 `json:"calls"`
}

// Stats returns the counts since the backend was made.
func (b *Backend) Stats() Stats { return b.rec.stats }

func (r *recorder) init(b *Backend) error {
	r.slotSize = max(minSlotSize, int(b.info.Limits.MinUniformBufferOffsetAlignment))
	r.data = make([]byte, arenaSlots*r.slotSize)
	var err error
	r.arena, err = b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
		Label: "webmae uniform arena",
		Size:  uint64(len(r.data)),
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		return fmt.Errorf("gpu: create uniform arena: %w", err)
	}
	r.direct = &directCommands{b: b}
	r.cmd = r.direct
	b.replay = newReplay(b)
	if b.replay != nil {
		r.cmd = b.replay
	}
	return nil
}

func (r *recorder) release() {
	if r.cmd != nil {
		r.cmd.drop()
	}
	if r.arena != nil {
		r.arena.Destroy()
		r.arena.Release()
		r.arena = nil
	}
}

// binding is the buffer range bound to one storage slot.
type binding struct {
	buf       *wgpu.Buffer
	off, size uint64
}

type groupKey struct {
	layout *layout
	b      [maxSlots]binding
}

// call collects the bindings and parameters of one dispatch.
type call struct {
	p      *pipeline
	binds  [maxSlots]binding
	params [paramWords]uint32
	n      int

	views  [maxSlots]backend.View // the view bound to each slot
	offIdx [maxSlots]int          // its offset's index in params, +1 (0: none)
}

// u appends integer parameters.
func (c *call) u(vs ...int) {
	for _, v := range vs {
		c.params[c.n] = uint32(v)
		c.n++
	}
}

// f appends float parameters.
func (c *call) f(vs ...float32) {
	for _, v := range vs {
		c.params[c.n] = math.Float32bits(v)
		c.n++
	}
}

// Buffer is a WebGPU storage buffer of float32 (or int32) elements.
type Buffer struct {
	owner *Backend
	buf   *wgpu.Buffer // nil when creation failed (the error is recorded)
	n     int
	index bool
	size  uint64 // bytes
}

// Len implements backend.Buffer.
func (b *Buffer) Len() int { return b.n }

// buffer returns the GPU buffer of a view, checking that it belongs to this
// backend and that the view lies inside it (programming errors panic).
func (b *Backend) buffer(v backend.View, what string) *Buffer {
	buf, ok := v.Buf.(*Buffer)
	if !ok || buf.owner != b {
		panic(fmt.Sprintf("gpu: %s: view of a buffer of another backend (%T)", what, v.Buf))
	}
	if v.Off < 0 || v.Len < 0 || v.Off+v.Len > buf.n {
		panic(fmt.Sprintf("gpu: %s: view [%d, %d) outside a buffer of %d elements", what, v.Off, v.Off+v.Len, buf.n))
	}
	return buf
}

// bindRange chooses the bound range for a view: the whole buffer when it
// fits one binding (so most kernels of a step share a few bind groups),
// else a window of b.window bytes starting at a multiple of b.halfWindow
// (any view of at most halfWindow bytes fits one; windows are reused), else
// an aligned range just around the view. It returns the binding and the
// view's element offset inside it.
func (b *Backend) bindRange(v backend.View, what string) (binding, int, error) {
	buf := b.buffer(v, what)
	if buf.buf == nil {
		return binding{}, 0, fmt.Errorf("gpu: %s: buffer was not created", what)
	}
	if v.Len == 0 {
		return binding{}, 0, nil // the caller binds the slot's dummy
	}
	if buf.size <= b.window {
		return binding{buf: buf.buf, size: buf.size}, v.Off, nil
	}
	start, end := uint64(v.Off)*4, uint64(v.Off+v.Len)*4
	w0 := start / b.halfWindow * b.halfWindow
	if end <= w0+b.window {
		size := min(b.window, buf.size-w0)
		return binding{buf: buf.buf, off: w0, size: size}, int((start - w0) / 4), nil
	}
	w0 = start &^ (b.align - 1)
	if end-w0 > b.window {
		return binding{}, 0, fmt.Errorf("gpu: %s: view of %d bytes exceeds the device's maxStorageBufferBindingSize (%d bytes)",
			what, uint64(v.Len)*4, b.info.Limits.MaxStorageBufferBindingSize)
	}
	// Whole vec4s (matmul.wgsl reads its operands as array<vec4<f32>>); the
	// buffer's size is a multiple of 16 bytes.
	return binding{buf: buf.buf, off: w0, size: min((end-w0+15)&^15, buf.size-w0)}, int((start - w0) / 4), nil
}

// dummyBinding is the binding of an unused slot (1-based).
func (b *Backend) dummyBinding(slot int) binding {
	return binding{buf: b.dummies[slot-1], size: 16}
}

// newCall starts a dispatch of kernel k; it returns nil (and records the
// error) when the backend has failed or the pipeline cannot be built.
func (b *Backend) newCall(k kernel) *call {
	if b.err != nil {
		return nil
	}
	p, err := b.pipeline(k)
	if err != nil {
		b.fail(err)
		return nil
	}
	c := &call{p: p}
	for i := range k.slots {
		c.binds[i] = b.dummyBinding(i + 1)
	}
	return c
}

// view binds v to storage slot (1-based) and appends its element offset
// to the parameters.
func (b *Backend) view(c *call, slot int, v backend.View, what string) {
	if c == nil {
		return
	}
	bd, off, err := b.bindRange(v, what)
	if err != nil {
		b.fail(err)
	}
	if bd.buf == nil {
		bd = b.dummyBinding(slot)
	}
	c.binds[slot-1] = bd
	c.views[slot-1], c.offIdx[slot-1] = v, c.n+1
	c.u(off)
}

// stageReadOnly resolves a read-only slot bound to the same buffer as a
// writable slot of the call (WebGPU forbids a buffer in both roles in one
// dispatch, even for disjoint ranges): the read-only view is copied into a
// scratch buffer of its own first. The engine's model never does this
// (its inputs and outputs are separate buffers); it keeps any mix of views
// correct.
func (b *Backend) stageReadOnly(c *call) {
	ro := c.p.k.ro
	for i := range c.p.k.slots {
		if ro&(1<<(i+1)) == 0 || c.offIdx[i] == 0 {
			continue
		}
		conflict := false
		for j := range c.p.k.slots {
			if ro&(1<<(j+1)) == 0 && c.binds[j].buf == c.binds[i].buf {
				conflict = true
			}
		}
		if !conflict {
			continue
		}
		v := c.views[i]
		src := b.buffer(v, "stage read-only view")
		s := b.scratchBuffer(fmt.Sprintf("stage slot %d", i+1), v.Len)
		if b.err != nil {
			return
		}
		if err := b.rec.cmd.begin(); err != nil {
			b.fail(err)
			return
		}
		b.rec.last = nil // the copy ends the compute pass
		if err := b.rec.cmd.copy(src.buf, uint64(v.Off)*4, s.buf, 0, uint64(v.Len)*4); err != nil {
			b.fail(fmt.Errorf("gpu: %s: stage a read-only view: %w", c.p.k.entry, err))
			return
		}
		b.rec.pending++
		c.binds[i] = binding{buf: s.buf, size: s.size}
		c.params[c.offIdx[i]-1] = 0
	}
}

// bindGroup returns the cached bind group for the call's bindings.
func (b *Backend) bindGroup(c *call) (*wgpu.BindGroup, error) {
	key := groupKey{layout: c.p.layout, b: c.binds}
	if g, ok := b.groups[key]; ok {
		return g, nil
	}
	entries := make([]wgpu.BindGroupEntry, 0, 1+c.p.layout.slots)
	entries = append(entries, wgpu.BindGroupEntry{
		Binding: 0, Buffer: b.rec.arena, Offset: 0, Size: uint64(b.rec.slotSize),
	})
	for i := range c.p.layout.slots {
		bd := c.binds[i]
		entries = append(entries, wgpu.BindGroupEntry{
			Binding: uint32(i + 1), Buffer: bd.buf, Offset: bd.off, Size: bd.size,
		})
	}
	var g *wgpu.BindGroup
	err := b.errorScope(func() error {
		var err error
		g, err = b.dev.device.TryCreateBindGroup(&wgpu.BindGroupDescriptor{
			Layout:  c.p.layout.groupLayout,
			Entries: entries,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind group for %s: %w", c.p.k.entry, err)
	}
	b.groups[key] = g
	return g, nil
}

// dims is a 2-D workgroup grid.
type dims struct{ x, y int }

// dispatch records the call with g.x * g.y workgroups.
func (b *Backend) dispatch(c *call, g dims) {
	if c == nil || b.err != nil {
		return
	}
	x, y := g.x, g.y
	if x == 0 || y == 0 {
		return
	}
	maxWG := int(b.info.Limits.MaxComputeWorkgroupsPerDim)
	if x > maxWG || y > maxWG {
		b.fail(fmt.Errorf("gpu: %s: %d x %d workgroups exceed maxComputeWorkgroupsPerDimension %d", c.p.k.entry, x, y, maxWG))
		return
	}
	r := &b.rec
	if r.used == arenaSlots {
		if err := b.Submit(); err != nil {
			return
		}
	}
	if c.p.k.ro != 0 {
		b.stageReadOnly(c)
		if b.err != nil {
			return
		}
	}
	bg, err := b.bindGroup(c)
	if err != nil {
		b.fail(err)
		return
	}
	if err := r.cmd.begin(); err != nil {
		b.fail(err)
		return
	}
	off := r.used * r.slotSize
	for i := 0; i < c.n; i++ {
		v := c.params[i]
		r.data[off+4*i] = byte(v)
		r.data[off+4*i+1] = byte(v >> 8)
		r.data[off+4*i+2] = byte(v >> 16)
		r.data[off+4*i+3] = byte(v >> 24)
	}
	r.used++
	if r.last != c.p {
		r.cmd.setPipeline(c.p.pipe)
		r.last = c.p
	}
	r.cmd.setBindGroup(bg, uint32(off))
	r.cmd.dispatch(uint32(x), uint32(y))
	if r.profiling {
		name := c.p.k.entry
		if c.p.k.spec != "" {
			name += "[" + c.p.k.spec + "]"
		}
		r.names = append(r.names, name)
	}
	r.pending++
	r.stats.Dispatches++
}

// grid spreads n workgroups over x (at most maxComputeWorkgroupsPerDimension)
// and y; shaders compute the linear index wid.y * num_workgroups.x + wid.x
// and skip the padding.
func (b *Backend) grid(n int) dims {
	maxWG := int(b.info.Limits.MaxComputeWorkgroupsPerDim)
	if n <= maxWG {
		return dims{n, 1}
	}
	y := (n + maxWG - 1) / maxWG
	return dims{(n + y - 1) / y, y}
}

// Submit implements backend.Kernels: it finishes the command encoder that
// holds every kernel recorded since the last submit and hands it to the
// queue, after uploading the dispatches' parameters. It returns the first
// error recorded by the kernels, validation errors and device loss.
func (b *Backend) Submit() error {
	if err := b.asyncError(); err != nil {
		b.fail(err)
	}
	if b.err != nil {
		b.dropEncoder()
		return b.takeErr()
	}
	r := &b.rec
	if !r.cmd.open() {
		return nil
	}
	err := r.cmd.submit(r.arena, r.data[:r.used*r.slotSize])
	r.used, r.pending, r.last = 0, 0, nil
	if err != nil {
		b.fail(err)
		b.dropEncoder()
		return b.takeErr()
	}
	r.stats.Submits++
	return nil
}

// takeErr returns the recorded error and clears it, so that one failure is
// reported once and the backend stays usable; device loss stays recorded.
func (b *Backend) takeErr() error {
	err := b.err
	if !errors.Is(err, ErrDeviceLost) {
		b.err = nil
	}
	return err
}

// dropEncoder abandons recorded work after an error.
func (b *Backend) dropEncoder() {
	r := &b.rec
	r.cmd.drop()
	r.used, r.pending, r.last = 0, 0, nil
}

// newBuffer creates a zeroed storage buffer of n 4-byte elements.
func (b *Backend) newBuffer(n int, index bool) (*Buffer, error) {
	if n < 0 {
		panic(fmt.Sprintf("gpu: buffer of %d elements", n))
	}
	buf := &Buffer{owner: b, n: n, index: index, size: max(16, (uint64(n)*4+15)&^15)}
	b.buffers = append(b.buffers, buf)
	if buf.size > b.info.Limits.MaxBufferSize {
		return buf, fmt.Errorf("gpu: buffer of %d bytes exceeds the device's maxBufferSize (%d bytes)", uint64(n)*4, b.info.Limits.MaxBufferSize)
	}
	var err error
	buf.buf, err = b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
		Label: fmt.Sprintf("webmae %d elements", n),
		Size:  buf.size,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		buf.buf = nil
		return buf, fmt.Errorf("gpu: create buffer of %d bytes: %w", buf.size, err)
	}
	return buf, nil
}

// TryNewBuffer is NewBuffer that returns the error (e.g. a buffer over the
// device's maxBufferSize) instead of recording it.
func (b *Backend) TryNewBuffer(n int) (*Buffer, error) { return b.newBuffer(n, false) }

// NewBuffer implements backend.Kernels (storage is zero-initialised by
// WebGPU). A failure is returned by the next Submit or Read.
func (b *Backend) NewBuffer(n int) backend.Buffer {
	buf, err := b.newBuffer(n, false)
	if err != nil {
		b.fail(err)
	}
	return buf
}

// NewIndexBuffer implements backend.Kernels.
func (b *Backend) NewIndexBuffer(n int) backend.Buffer {
	buf, err := b.newBuffer(n, true)
	if err != nil {
		b.fail(err)
	}
	return buf
}

// scratchBuffer returns an internal buffer of at least n elements for the
// given use, growing it when needed (the old one stays alive until Release
// because recorded kernels may still reference it).
func (b *Backend) scratchBuffer(name string, n int) *Buffer {
	if s, ok := b.scratch[name]; ok && s.n >= n {
		return s
	}
	s, err := b.newBuffer(max(n, 1), false)
	if err != nil {
		b.fail(err)
	}
	b.scratch[name] = s
	return s
}

// write uploads bytes to a view, after submitting the kernels recorded so
// far so that the write is ordered after them (queue.writeBuffer is
// executed before any later submit).
func (b *Backend) write(dst backend.View, data []byte, what string) {
	buf := b.buffer(dst, what)
	if len(data) == 0 || b.err != nil {
		return
	}
	if b.rec.pending > 0 {
		if err := b.Submit(); err != nil {
			return
		}
	}
	if buf.buf == nil {
		b.fail(fmt.Errorf("gpu: %s: buffer was not created", what))
		return
	}
	if err := b.writeBuffer(buf.buf, uint64(dst.Off)*4, data); err != nil {
		b.fail(fmt.Errorf("gpu: %s: %w", what, err))
	}
}

// Write implements backend.Kernels.
func (b *Backend) Write(dst backend.View, src []float32) {
	if len(src) != dst.Len {
		panic(fmt.Sprintf("gpu: write: %d values into a view of %d", len(src), dst.Len))
	}
	b.write(dst, wgpu.ToBytes(src), "write")
}

// WriteIndex implements backend.Kernels.
func (b *Backend) WriteIndex(dst backend.View, src []int32) {
	if len(src) != dst.Len {
		panic(fmt.Sprintf("gpu: write index: %d values into a view of %d", len(src), dst.Len))
	}
	b.write(dst, wgpu.ToBytes(src), "write index")
}

// Read implements backend.Kernels: it submits pending work, copies the view
// into a staging buffer, maps it and waits.
func (b *Backend) Read(src backend.View, dst []float32) error {
	if len(dst) != src.Len {
		panic(fmt.Sprintf("gpu: read: view of %d into %d values", src.Len, len(dst)))
	}
	buf := b.buffer(src, "read")
	if b.err != nil {
		return b.takeErr()
	}
	if src.Len == 0 {
		return b.Submit()
	}
	size := uint64(src.Len) * 4
	if err := b.ensureStaging(size); err != nil {
		b.fail(err)
		return b.takeErr()
	}
	if err := b.rec.cmd.begin(); err != nil {
		b.fail(err)
		return b.takeErr()
	}
	b.rec.last = nil // the copy ends the compute pass
	if err := b.rec.cmd.copy(buf.buf, uint64(src.Off)*4, b.staging, 0, size); err != nil {
		b.fail(fmt.Errorf("gpu: read: copy to staging: %w", err))
		b.dropEncoder()
		return b.takeErr()
	}
	b.rec.pending++
	if err := b.Submit(); err != nil {
		return err
	}
	var status wgpu.MapAsyncStatus
	done := false
	err := b.staging.TryMapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.MapAsyncStatus) {
		status, done = s, true
	})
	if err == nil {
		err = b.waitMap(&done)
	}
	if err == nil && status != wgpu.MapAsyncStatusSuccess {
		err = fmt.Errorf("map status %v", status)
	}
	if err != nil {
		if lost := b.asyncError(); lost != nil {
			err = lost
		}
		b.fail(fmt.Errorf("gpu: read: map staging buffer: %w", err))
		return b.takeErr()
	}
	copy(dst, wgpu.FromBytes[float32](b.staging.GetMappedRange(0, uint(size))))
	if err := b.staging.TryUnmap(); err != nil {
		b.fail(fmt.Errorf("gpu: read: unmap: %w", err))
		return b.takeErr()
	}
	return nil
}

// ensureStaging makes the readback buffer at least size bytes.
func (b *Backend) ensureStaging(size uint64) error {
	if b.staging != nil && b.stageLen >= size {
		return nil
	}
	n := max(size, 1<<16, 2*b.stageLen)
	if n > b.info.Limits.MaxBufferSize {
		n = size
	}
	if b.staging != nil {
		b.staging.Destroy()
		b.staging.Release()
		b.staging = nil
	}
	buf, err := b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
		Label: "webmae readback",
		Size:  n,
		Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		return fmt.Errorf("gpu: create readback buffer of %d bytes: %w", n, err)
	}
	b.staging, b.stageLen = buf, n
	return nil
}

// CallCounts implements engine/bench's CallCounter.
func (b *Backend) CallCounts() (dispatches, calls int64) {
	return b.rec.stats.Dispatches, b.rec.stats.Calls
}
