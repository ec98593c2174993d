//go:build js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/internal/jsutil"
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

// wgslEnablesSubgroups: browsers compile subgroup operations only in
// modules that start with `enable subgroups;`.
const wgslEnablesSubgroups = true

// openDevice requests navigator.gpu's adapter and a device with the
// adapter's larger limits.
func openDevice(ctx context.Context) (*device, Info, error) {
	gpu := js.Global().Get("navigator").Get("gpu")
	if !gpu.Truthy() {
		return nil, Info{}, errors.New("gpu: WebGPU is not available in this browser (navigator.gpu is missing)")
	}
	adapter, err := jsutil.Await(ctx, gpu.Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if err != nil {
		return nil, Info{}, fmt.Errorf("gpu: requestAdapter: %w", err)
	}
	if !adapter.Truthy() {
		return nil, Info{}, errors.New("gpu: no WebGPU adapter")
	}
	req := requestedLimits(adapter)
	info, features := describeAdapter(adapter)

	dv, err := jsutil.Await(ctx, adapter.Call("requestDevice", map[string]any{
		"label":            "webmae",
		"requiredLimits":   req,
		"requiredFeatures": features,
	}))
	if err != nil {
		return nil, Info{}, fmt.Errorf("gpu: requestDevice on %s: %w", info.Adapter, err)
	}
	info.Limits = deviceLimits(dv.Get("limits"))

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
			msg = jsutil.ErrorOf(args[0].Get("error")).Message
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

// requestedLimits asks for the adapter's own (larger) value of each limit
// in limitNames.
func requestedLimits(adapter js.Value) map[string]any {
	al := adapter.Get("limits")
	req := map[string]any{}
	for _, n := range limitNames {
		if v := al.Get(n); v.Type() == js.TypeNumber {
			req[n] = v.Float()
		}
	}
	return req
}

// describeAdapter reads the adapter's features and info; features are
// those to request ("subgroups" where the adapter has it: the reductions
// then use subgroup operations, see shaders.Variant).
func describeAdapter(adapter js.Value) (Info, []any) {
	var features []any
	var info Info
	fs := js.Global().Get("Array").Call("from", adapter.Get("features"))
	for i := 0; i < fs.Length(); i++ {
		f := fs.Index(i).String()
		info.Features = append(info.Features, f)
		if f == "subgroups" {
			features = append(features, f)
			info.Subgroups = true
		}
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
	return info, features
}

// deviceLimits reads the limits the device was granted.
func deviceLimits(dl js.Value) Limits {
	num := func(n string) uint64 { return uint64(dl.Get(n).Float()) }
	return Limits{
		MaxStorageBufferBindingSize:     num("maxStorageBufferBindingSize"),
		MaxBufferSize:                   num("maxBufferSize"),
		MinStorageBufferOffsetAlignment: uint32(num("minStorageBufferOffsetAlignment")),
		MinUniformBufferOffsetAlignment: uint32(num("minUniformBufferOffsetAlignment")),
		MaxComputeWorkgroupStorageSize:  uint32(num("maxComputeWorkgroupStorageSize")),
		MaxComputeInvocationsPerWG:      uint32(num("maxComputeInvocationsPerWorkgroup")),
		MaxComputeWorkgroupsPerDim:      uint32(num("maxComputeWorkgroupsPerDimension")),
		MaxStorageBuffersPerStage:       uint32(num("maxStorageBuffersPerShaderStage")),
	}
}
