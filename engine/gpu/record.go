package gpu

import (
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"
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
