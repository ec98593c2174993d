//go:build js && wasm

package ui

import (
	"context"
	"fmt"
	"net/url"
	"syscall/js"
	"time"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/gpu"
)

// gpuOpenTimeout bounds opening the WebGPU device.
const gpuOpenTimeout = 60 * time.Second

// chooseBackend opens the WebGPU backend, or the CPU backend (Go in wasm)
// when WebGPU is missing, fails, or the URL asks for ?backend=cpu. It
// describes the backend and the adapter (or why WebGPU is not used).
func chooseBackend() (k backend.Kernels, backendText, adapterText string) {
	if u, err := url.Parse(js.Global().Get("location").Get("href").String()); err == nil && u.Query().Get("backend") == "cpu" {
		return cpuBackend(), cpuBackendText, cpuNote("WebGPU not used: the page was opened with ?backend=cpu")
	}
	if !js.Global().Get("navigator").Get("gpu").Truthy() {
		return cpuBackend(), cpuBackendText, cpuNote("this browser has no WebGPU, so the page computes on the CPU (slower): a recent Chrome, Edge or Safari has it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), gpuOpenTimeout)
	defer cancel()
	b, err := gpu.New(ctx)
	if err != nil {
		consoleWarn(fmt.Sprintf("webmae: WebGPU could not be opened: %v", err))
		return cpuBackend(), cpuBackendText, cpuNote("WebGPU could not be started, so the page computes on the CPU (slower): update the browser or its graphics driver to use the GPU")
	}
	return b, "WebGPU backend", describeAdapter(b.Info())
}

// cpuBackend is the CPU backend as the page uses it: yielding (see
// yielding), also the fallback after the WebGPU device is lost.
func cpuBackend() backend.Kernels { return &yielding{Kernels: cpu.New(), last: time.Now()} }

// yieldEvery is how long the CPU backend computes before giving the
// browser a turn.
const yieldEvery = 50 * time.Millisecond

// yielding is the CPU backend giving the browser's event loop a turn about
// every yieldEvery of computation: Go wasm runs on the page's main thread,
// and one training step of tiny takes seconds there. The pause is between
// kernels, so results are unchanged. (The WebGPU backend yields by itself,
// awaiting the GPU.)
type yielding struct {
	backend.Kernels
	last time.Time
}

// tick sleeps briefly once yieldEvery has passed since the last pause:
// the goroutine blocks, the Go scheduler returns to the event loop, the
// page handles input and paints.
func (y *yielding) tick() {
	if time.Since(y.last) >= yieldEvery {
		time.Sleep(time.Millisecond)
		y.last = time.Now()
	}
}

func (y *yielding) MatMul(c, a, b, bias backend.View, p backend.MatMul) {
	y.Kernels.MatMul(c, a, b, bias, p)
	y.tick()
}

func (y *yielding) Attention(out, probs, qkv backend.View, b, t, heads, hd int) {
	y.Kernels.Attention(out, probs, qkv, b, t, heads, hd)
	y.tick()
}

func (y *yielding) AttentionBackward(dqkv, dout, qkv, probs backend.View, b, t, heads, hd int) {
	y.Kernels.AttentionBackward(dqkv, dout, qkv, probs, b, t, heads, hd)
	y.tick()
}

func (y *yielding) AdamWStep(params, grads, m, v backend.View, h backend.AdamW) {
	y.Kernels.AdamWStep(params, grads, m, v, h)
	y.tick()
}

const cpuBackendText = "CPU backend (Go wasm)"

// cpuNote is why the CPU backend was chosen, and where it reconstructs:
// in the CPU worker unless the URL says ?worker=0 (ui/worker_js.go).
func cpuNote(why string) string {
	if workerWanted() {
		return why + workerNote
	}
	return why
}
