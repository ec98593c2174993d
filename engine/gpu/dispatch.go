package gpu

import (
	"errors"
	"fmt"
)

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
	for i := range p.contract.slots {
		c.binds[i] = b.dummyBinding(i + 1)
	}
	return c
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
	if err := c.complete(); err != nil {
		panic(err.Error())
	}
	if c.p.contract.ro != 0 {
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
	for i := range c.p.contract.fields {
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

// CallCounts implements engine/bench's CallCounter.
func (b *Backend) CallCounts() (dispatches, calls int64) {
	return b.rec.stats.Dispatches, b.rec.stats.Calls
}
