package gpu

import (
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
)

// binding is the buffer range bound to one storage slot.
type binding struct {
	buf       *wgpu.Buffer
	off, size uint64
}

type groupKey struct {
	layout *layout
	b      [maxSlots]binding
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

// bind binds v to storage slot (1-based) of the call and sets the slot's
// uniform field off_<name> to the view's element offset inside the bound
// range, which it returns. An empty view leaves the slot's dummy bound and
// sets the offset 0.
func (b *Backend) bind(c *call, slot int, v backend.View) int {
	ct := c.p.contract
	if slot < 1 || slot > ct.slots {
		panic(fmt.Sprintf("gpu: %s %s: no storage binding %d (the file declares 1..%d)", ct.file, c.p.k.entry, slot, ct.slots))
	}
	name := ct.names[slot-1]
	if v.Empty() {
		c.u("off_"+name, 0)
		return 0
	}
	bd, off, err := b.bindRange(v, c.p.k.entry+" "+name)
	if err != nil {
		b.fail(err)
	}
	if bd.buf == nil {
		bd = b.dummyBinding(slot)
	}
	c.binds[slot-1] = bd
	c.views[slot-1], c.bound[slot-1] = v, true
	c.u("off_"+name, off)
	return off
}

// bindViews binds views[i] to storage slot i+1 of the call: one view (or an
// empty view) for every binding the file declares.
func (b *Backend) bindViews(c *call, views ...backend.View) {
	if c == nil {
		return
	}
	if ct := c.p.contract; len(views) != ct.slots {
		panic(fmt.Sprintf("gpu: %s %s: %d views for %d storage bindings", ct.file, c.p.k.entry, len(views), ct.slots))
	}
	for i, v := range views {
		b.bind(c, i+1, v)
	}
}

// stageReadOnly resolves a read-only slot bound to the same buffer as a
// writable slot of the call (WebGPU forbids a buffer in both roles in one
// dispatch, even for disjoint ranges): the read-only view is copied into a
// scratch buffer of its own first. The engine's model never does this
// (its inputs and outputs are separate buffers); it keeps any mix of views
// correct.
func (b *Backend) stageReadOnly(c *call) {
	ct := c.p.contract
	ro := ct.ro
	for i := range ct.slots {
		if ro&(1<<(i+1)) == 0 || !c.bound[i] {
			continue
		}
		conflict := false
		for j := range ct.slots {
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
		c.params[ct.offs[i]] = 0
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

// covering returns the view spanning a and b when both are views of one
// buffer.
func covering(a, b backend.View) (backend.View, bool) {
	if a.Buf != b.Buf {
		return backend.View{}, false
	}
	lo, hi := min(a.Off, b.Off), max(a.Off+a.Len, b.Off+b.Len)
	return backend.View{Buf: a.Buf, Off: lo, Len: hi - lo}, true
}
