//go:build js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/oliverbestmann/webgpu/wgpu"
)

// The binding's js side does not forward requiredLimits to requestDevice,
// pushes no error scopes and exposes no way to reach the underlying
// JavaScript objects. This file opens the device with syscall/js (so the
// adapter's larger limits can be requested), and converts between the
// binding's wrappers, which are structs holding exactly one js.Value, and
// js.Value. The assertions below break the build if that layout changes.
type jsHandle struct{ v js.Value }

var (
	_ = [1]struct{}{}[unsafe.Sizeof(wgpu.Device{})-unsafe.Sizeof(jsHandle{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wgpu.ShaderModule{})-unsafe.Sizeof(jsHandle{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wgpu.Buffer{})-unsafe.Sizeof(jsHandle{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wgpu.ComputePipeline{})-unsafe.Sizeof(jsHandle{})]
	_ = [1]struct{}{}[unsafe.Sizeof(wgpu.BindGroup{})-unsafe.Sizeof(jsHandle{})]
)

// jsOf returns the JavaScript object behind one of the binding's wrappers.
func jsOf[T wgpu.Buffer | wgpu.ShaderModule | wgpu.Device | wgpu.ComputePipeline | wgpu.BindGroup](p *T) js.Value {
	return (*jsHandle)(unsafe.Pointer(p)).v
}

// device holds the platform handles and the errors the browser delivers
// asynchronously.
type device struct {
	device *wgpu.Device
	js     js.Value // GPUDevice

	mu       sync.Mutex
	async    error // device loss or an uncaptured error
	funcs    []js.Func
	onError  js.Func
	released bool

	// writeBuffer staging: a JavaScript Uint8Array that Go bytes are
	// copied into before queue.writeBuffer (see writeBuffer).
	upload js.Value
	queue  js.Value
}

// release destroys the device. Destroying resolves device.lost, so the
// callbacks are released by the lost handler once it has run (releasing
// them here makes the browser call a released Go function).
func (d *device) release() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.released = true
	d.mu.Unlock()
	if d.js.Truthy() {
		d.js.Call("destroy")
	}
}

// releaseFuncs frees the JavaScript callbacks (from the lost handler).
func (d *device) releaseFuncs() {
	d.js.Call("removeEventListener", "uncapturederror", d.onError)
	for _, f := range d.funcs {
		f.Release()
	}
	d.funcs = nil
}

func (d *device) setAsync(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.async == nil || (errors.Is(err, ErrDeviceLost) && !errors.Is(d.async, ErrDeviceLost)) {
		d.async = err
	}
}

// await waits for a JavaScript promise. It must not run on the browser's
// event loop callback stack (call it from a goroutine).
func await(ctx context.Context, promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	defer onOK.Release()
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = jsString(args[0])
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer onErr.Release()
	promise.Call("then", onOK, onErr)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// jsString renders a JavaScript error or value.
func jsString(v js.Value) string {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		return v.Get("message").String()
	}
	return v.Call("toString").String()
}

func jsGet(v js.Value, name string) string {
	if !v.Truthy() {
		return ""
	}
	f := v.Get(name)
	if f.Type() != js.TypeString {
		return ""
	}
	return f.String()
}

// limitNames are the adapter limits requested at their adapter values.
var limitNames = []string{
	"maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupStorageSize",
	"maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupSizeY",
	"maxComputeWorkgroupsPerDimension", "maxStorageBuffersPerShaderStage",
	"minStorageBufferOffsetAlignment", "minUniformBufferOffsetAlignment",
}

// openDevice requests navigator.gpu's adapter and a device with the
// adapter's larger limits.
func openDevice(ctx context.Context) (*device, Info, error) {
	gpu := js.Global().Get("navigator").Get("gpu")
	if !gpu.Truthy() {
		return nil, Info{}, errors.New("gpu: WebGPU is not available in this browser (navigator.gpu is missing)")
	}
	adapter, err := await(ctx, gpu.Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if err != nil {
		return nil, Info{}, fmt.Errorf("gpu: requestAdapter: %w", err)
	}
	if !adapter.Truthy() {
		return nil, Info{}, errors.New("gpu: no WebGPU adapter")
	}
	al := adapter.Get("limits")
	req := map[string]any{}
	for _, n := range limitNames {
		if v := al.Get(n); v.Type() == js.TypeNumber {
			req[n] = v.Float()
		}
	}
	var features []any
	var info Info
	fs := js.Global().Get("Array").Call("from", adapter.Get("features"))
	for i := 0; i < fs.Length(); i++ {
		info.Features = append(info.Features, fs.Index(i).String())
	}
	ai := adapter.Get("info")
	info.Vendor = jsGet(ai, "vendor")
	info.Adapter = jsGet(ai, "device")
	if info.Adapter == "" {
		info.Adapter = jsGet(ai, "architecture")
	}
	if info.Adapter == "" {
		info.Adapter = info.Vendor
	}
	if info.Adapter == "" {
		info.Adapter = "browser adapter"
	}
	info.Description = jsGet(ai, "description")
	info.Backend = "webgpu"
	if adapter.Get("isFallbackAdapter").Truthy() {
		info.AdapterType = "fallback"
	}

	dv, err := await(ctx, adapter.Call("requestDevice", map[string]any{
		"label":            "webmae",
		"requiredLimits":   req,
		"requiredFeatures": features,
	}))
	if err != nil {
		return nil, Info{}, fmt.Errorf("gpu: requestDevice on %s: %w", info.Adapter, err)
	}
	dl := dv.Get("limits")
	num := func(n string) uint64 { return uint64(dl.Get(n).Float()) }
	info.Limits = Limits{
		MaxStorageBufferBindingSize:     num("maxStorageBufferBindingSize"),
		MaxBufferSize:                   num("maxBufferSize"),
		MinStorageBufferOffsetAlignment: uint32(num("minStorageBufferOffsetAlignment")),
		MinUniformBufferOffsetAlignment: uint32(num("minUniformBufferOffsetAlignment")),
		MaxComputeWorkgroupStorageSize:  uint32(num("maxComputeWorkgroupStorageSize")),
		MaxComputeInvocationsPerWG:      uint32(num("maxComputeInvocationsPerWorkgroup")),
		MaxComputeWorkgroupsPerDim:      uint32(num("maxComputeWorkgroupsPerDimension")),
		MaxStorageBuffersPerStage:       uint32(num("maxStorageBuffersPerShaderStage")),
	}

	d := &device{js: dv, queue: dv.Get("queue")}
	d.device = (*wgpu.Device)(unsafe.Pointer(&jsHandle{v: dv}))
	onLost := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "unknown reason"
		if len(args) > 0 {
			msg = jsGet(args[0], "reason") + ": " + jsGet(args[0], "message")
		}
		d.setAsync(fmt.Errorf("%w: %s", ErrDeviceLost, msg))
		d.mu.Lock()
		released := d.released
		d.mu.Unlock()
		if released {
			// The funcs are released after this callback returns.
			go d.releaseFuncs()
		}
		return nil
	})
	onError := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "uncaptured WebGPU error"
		if len(args) > 0 {
			msg = jsString(args[0].Get("error"))
		}
		d.setAsync(fmt.Errorf("gpu: %s", msg))
		return nil
	})
	d.funcs = append(d.funcs, onLost, onError)
	d.onError = onError
	dv.Get("lost").Call("then", onLost)
	dv.Call("addEventListener", "uncapturederror", onError)
	return d, info, nil
}

// errorScope runs fn inside a validation error scope and returns fn's error
// or the scope's.
func (b *Backend) errorScope(fn func() error) error {
	dev := b.dev.js
	dev.Call("pushErrorScope", "validation")
	err := fn()
	e, perr := await(context.Background(), dev.Call("popErrorScope"))
	switch {
	case err != nil:
		return err
	case perr != nil:
		return fmt.Errorf("popErrorScope: %w", perr)
	case e.Truthy():
		return errors.New(jsString(e))
	}
	return nil
}

// compilationError returns the first error message of getCompilationInfo
// as a ShaderError (file and entry are filled in by the caller).
func (b *Backend) compilationError(mod *wgpu.ShaderModule) error {
	m := jsOf(mod)
	if m.Get("getCompilationInfo").Type() != js.TypeFunction {
		return nil
	}
	ci, err := await(context.Background(), m.Call("getCompilationInfo"))
	if err != nil {
		return nil // no information; pipeline creation reports the error
	}
	msgs := ci.Get("messages")
	for i := 0; i < msgs.Length(); i++ {
		msg := msgs.Index(i)
		if msg.Get("type").String() != "error" {
			continue
		}
		return &ShaderError{
			Line: msg.Get("lineNum").Int(),
			Col:  msg.Get("linePos").Int(),
			Msg:  msg.Get("message").String(),
			Err:  errors.New(msg.Get("message").String()),
		}
	}
	return nil
}

// waitMap: the binding's TryMapAsync already awaited the promise.
func (b *Backend) waitMap(done *bool) error {
	if !*done {
		return errors.New("gpu: buffer map did not complete")
	}
	return nil
}

// asyncError reports device loss or an uncaptured error delivered by the
// browser's callbacks.
func (b *Backend) asyncError() error {
	b.dev.mu.Lock()
	defer b.dev.mu.Unlock()
	return b.dev.async
}

// uploadChunk is the largest writeBuffer, bytes: larger writes (the base
// model's 448 MB of parameters) go in chunks through one staging array.
const uploadChunk = 16 << 20

// writeBuffer copies data into buf at byte offset off. The binding's
// Queue.WriteBuffer reads the wasm memory through a global named `wasm`,
// which only its own loader defines (go-app's does not): the bytes are
// copied into a JavaScript Uint8Array instead.
func (b *Backend) writeBuffer(buf *wgpu.Buffer, off uint64, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = fmt.Errorf("writeBuffer: %s", jsString(je.Value))
				return
			}
			panic(r)
		}
	}()
	d := b.dev
	dst := jsOf(buf)
	for len(data) > 0 {
		n := min(len(data), uploadChunk)
		if d.upload.IsUndefined() || d.upload.Length() < n {
			size := n
			if n < uploadChunk {
				size = max(n, 1<<16)
			}
			d.upload = js.Global().Get("Uint8Array").New(size)
		}
		js.CopyBytesToJS(d.upload, data[:n])
		d.queue.Call("writeBuffer", dst, off, d.upload, 0, n)
		data, off = data[n:], off+uint64(n)
	}
	return nil
}

// Replayed command lists. A submit's commands are appended to a list of
// uint32 words; Submit copies the list and the uniform arena into
// JavaScript and makes one call that encodes and submits them. Pipelines,
// bind groups and buffers are registered once in a JavaScript array and
// named by their index. Per submit that is three Go->JS calls instead of
// about three per dispatch.
const (
	opPipeline  = 1 // index
	opBindGroup = 2 // index, dynamic offset
	opDispatch  = 3 // x, y
	opCopy      = 4 // src index, src offset lo, hi, dst index, dst offset lo, hi, size lo, hi
)

// replaySource is the JavaScript side: it reads the words from the bytes
// the Go side copied and issues the WebGPU calls.
const replaySource = `(device, queue, objs, opBytes, nWords, arena, arenaBytes, arenaLen) => {
	if (arenaLen > 0) queue.writeBuffer(arena, 0, arenaBytes, 0, arenaLen);
	const ops = new Uint32Array(opBytes.buffer, opBytes.byteOffset, nWords);
	const enc = device.createCommandEncoder({ label: 'webmae step' });
	let pass = null;
	const open = () => pass || (pass = enc.beginComputePass({ label: 'webmae kernels' }));
	for (let i = 0; i < nWords;) {
		switch (ops[i]) {
		case 1: open().setPipeline(objs[ops[i + 1]]); i += 2; break;
		case 2: open().setBindGroup(0, objs[ops[i + 1]], ops, i + 2, 1); i += 3; break;
		case 3: open().dispatchWorkgroups(ops[i + 1], ops[i + 2]); i += 3; break;
		case 4:
			if (pass) { pass.end(); pass = null; }
			enc.copyBufferToBuffer(objs[ops[i + 1]], ops[i + 2] + ops[i + 3] * 4294967296,
				objs[ops[i + 4]], ops[i + 5] + ops[i + 6] * 4294967296, ops[i + 7] + ops[i + 8] * 4294967296);
			i += 9; break;
		default: throw new Error('webmae replay: bad op ' + ops[i] + ' at word ' + i);
		}
	}
	if (pass) pass.end();
	queue.submit([enc.finish()]);
}`

type replayCommands struct {
	b       *Backend
	fn      js.Value // replaySource, evaluated
	profile js.Value // profileSource, evaluated
	// profileNext makes the next submit run profileSource; its promise
	// goes to promise.
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
	fn := js.Global().Get("Function").New("return " + replaySource).Invoke()
	prof := js.Global().Get("Function").New("return " + profileSource).Invoke()
	return &replayCommands{b: b, fn: fn, profile: prof, objs: js.Global().Get("Array").New(), index: map[any]uint32{}}
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
	r.ops = append(r.ops, opPipeline, r.id(p, jsOf(p)))
}

func (r *replayCommands) setBindGroup(g *wgpu.BindGroup, off uint32) {
	r.ops = append(r.ops, opBindGroup, r.id(g, jsOf(g)), off)
}

func (r *replayCommands) dispatch(x, y uint32) {
	r.ops = append(r.ops, opDispatch, x, y)
}

func (r *replayCommands) copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error {
	r.ops = append(r.ops, opCopy, r.id(src, jsOf(src)), uint32(srcOff), uint32(srcOff>>32),
		r.id(dst, jsOf(dst)), uint32(dstOff), uint32(dstOff>>32), uint32(size), uint32(size>>32))
	return nil
}

// toJS copies b into *dst (a Uint8Array, grown as needed).
func toJS(dst *js.Value, b []byte) {
	if dst.IsUndefined() || dst.Length() < len(b) {
		*dst = js.Global().Get("Uint8Array").New(max(len(b), 1<<16, 2*lenJS(*dst)))
	}
	js.CopyBytesToJS(*dst, b)
}

func lenJS(v js.Value) int {
	if v.IsUndefined() {
		return 0
	}
	return v.Length()
}

func (r *replayCommands) submit(arena *wgpu.Buffer, data []byte) (err error) {
	defer func() {
		r.ops, r.active = r.ops[:0], false
		if p := recover(); p != nil {
			if je, ok := p.(js.Error); ok {
				err = fmt.Errorf("gpu: replay the command list: %s", jsString(je.Value))
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

// profileSource replays a command list one dispatch per submit, waiting
// for each (queue.onSubmittedWorkDone), and resolves to the wall time of
// every dispatch in ms.
const profileSource = `async (device, queue, objs, opBytes, nWords, arena, arenaBytes, arenaLen) => {
	if (arenaLen > 0) queue.writeBuffer(arena, 0, arenaBytes, 0, arenaLen);
	const ops = new Uint32Array(opBytes.buffer, opBytes.byteOffset, nWords);
	await queue.onSubmittedWorkDone();
	const times = [];
	let pipe = null, group = null;
	const off = new Uint32Array(1);
	for (let i = 0; i < nWords;) {
		const enc = device.createCommandEncoder();
		switch (ops[i]) {
		case 1: pipe = objs[ops[i + 1]]; i += 2; continue;
		case 2: group = objs[ops[i + 1]]; off[0] = ops[i + 2]; i += 3; continue;
		case 3: {
			const pass = enc.beginComputePass();
			pass.setPipeline(pipe);
			pass.setBindGroup(0, group, off);
			pass.dispatchWorkgroups(ops[i + 1], ops[i + 2]);
			pass.end();
			const t = performance.now();
			queue.submit([enc.finish()]);
			await queue.onSubmittedWorkDone();
			times.push(performance.now() - t);
			i += 3; continue;
		}
		case 4:
			enc.copyBufferToBuffer(objs[ops[i + 1]], ops[i + 2] + ops[i + 3] * 4294967296,
				objs[ops[i + 4]], ops[i + 5] + ops[i + 6] * 4294967296, ops[i + 7] + ops[i + 8] * 4294967296);
			queue.submit([enc.finish()]);
			i += 9; continue;
		default: throw new Error('webmae profile: bad op ' + ops[i] + ' at word ' + i);
		}
	}
	return times;
}`

// Profile records the work run issues (it must not submit or read, e.g.
// one training step: Forward, Backward, AdamW) and replays it one
// dispatch per submit, timing each: the wall time per kernel, summed over
// its dispatches, longest first. Browser only (it needs the replayed
// command list).
func (b *Backend) Profile(run func()) ([]KernelTime, error) {
	rp, ok := b.rec.cmd.(*replayCommands)
	if !ok {
		return nil, errors.New("gpu: profile: needs the replayed command list (SetReplay(true))")
	}
	if err := b.Submit(); err != nil {
		return nil, err
	}
	r := &b.rec
	r.profiling, r.names = true, r.names[:0]
	submits := r.stats.Submits
	run()
	r.profiling = false
	if r.stats.Submits != submits {
		b.dropEncoder()
		return nil, errors.New("gpu: profile: the work submitted on its own (a read, or more dispatches than one uniform arena holds)")
	}
	rp.profileNext = true
	if err := b.Submit(); err != nil {
		rp.profileNext = false
		return nil, err
	}
	v, err := await(context.Background(), rp.promise)
	if err != nil {
		return nil, fmt.Errorf("gpu: profile: %w", err)
	}
	if v.Length() != len(r.names) {
		return nil, fmt.Errorf("gpu: profile: %d timings for %d dispatches", v.Length(), len(r.names))
	}
	idx := map[string]int{}
	var out []KernelTime
	for i, n := range r.names {
		j, ok := idx[n]
		if !ok {
			j = len(out)
			idx[n] = j
			out = append(out, KernelTime{Kernel: n})
		}
		out[j].Count++
		out[j].Ms += v.Index(i).Float()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ms > out[j].Ms })
	return out, nil
}

func (r *replayCommands) drop() { r.ops, r.active = r.ops[:0], false }
