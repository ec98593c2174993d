//go:build js

package gpu

import (
	"fmt"
	"syscall/js"
	"unsafe"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/internal/jsutil"
)

// replayCommands records a submit's commands as a list of words
// (replay_ops.go); Submit copies the list and the uniform arena into
// JavaScript and makes one call (commands.js's replay) that encodes and
// submits them. Pipelines, bind groups and buffers are registered once in a
// JavaScript array and named by their index. Per submit that is three
// Go->JS calls instead of about three per dispatch.
type replayCommands struct {
	b       *Backend
	fn      js.Value // commands.js's replay
	profile js.Value // commands.js's profile
	// profileNext makes the next submit run profile; its promise goes to
	// promise.
	profileNext bool
	promise     js.Value
	objs        js.Value // registered objects
	index       map[any]uint32
	ops         []uint32
	opsJS       js.Value // Uint8Array the words are copied into
	argJS       js.Value // Uint8Array the arena is copied into
	active      bool
}

func newReplay(b *Backend) commands {
	fns := jsutil.Eval(commandsJS).Invoke(opcodeTable())
	return &replayCommands{b: b, fn: fns.Get("replay"), profile: fns.Get("profile"), objs: js.Global().Get("Array").New(), index: map[any]uint32{}}
}

// id registers (once) the JavaScript object of a binding wrapper.
func (r *replayCommands) id(key any, v js.Value) uint32 {
	if i, ok := r.index[key]; ok {
		return i
	}
	i := uint32(len(r.index))
	r.objs.Call("push", v)
	r.b.rec.stats.Calls++
	r.index[key] = i
	return i
}

func (r *replayCommands) open() bool { return r.active }

func (r *replayCommands) begin() error {
	r.active = true
	return nil
}

func (r *replayCommands) setPipeline(p *wgpu.ComputePipeline) {
	r.ops = opsPipeline(r.ops, r.id(p, jsOf(p)))
}

func (r *replayCommands) setBindGroup(g *wgpu.BindGroup, off uint32) {
	r.ops = opsBindGroup(r.ops, r.id(g, jsOf(g)), off)
}

func (r *replayCommands) dispatch(x, y uint32) {
	r.ops = opsDispatch(r.ops, x, y)
}

func (r *replayCommands) copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error {
	r.ops = opsCopy(r.ops, r.id(src, jsOf(src)), srcOff, r.id(dst, jsOf(dst)), dstOff, size)
	return nil
}

func (r *replayCommands) submit(arena *wgpu.Buffer, data []byte) (err error) {
	defer func() {
		r.ops, r.active = r.ops[:0], false
		if p := recover(); p != nil {
			if je, ok := p.(js.Error); ok {
				err = fmt.Errorf("gpu: replay the command list: %w", jsutil.ErrorOf(je.Value))
				return
			}
			panic(p)
		}
	}()
	words := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(r.ops))), 4*len(r.ops))
	toJS(&r.opsJS, words)
	if len(data) > 0 {
		toJS(&r.argJS, data)
	}
	r.b.rec.stats.Calls += 2
	d := r.b.dev
	aid := r.id(arena, jsOf(arena))
	fn := r.fn
	if r.profileNext {
		fn, r.profileNext = r.profile, false
	}
	r.promise = fn.Invoke(d.js, d.queue, r.objs, r.opsJS, len(r.ops), r.objs.Index(int(aid)), r.argJS, len(data))
	r.b.rec.stats.Calls += 2 // objs.Index, Invoke
	return nil
}

func (r *replayCommands) drop() { r.ops, r.active = r.ops[:0], false }
