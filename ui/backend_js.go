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
		return cpu.New(), cpuBackendText, "WebGPU not used: the page was opened with ?backend=cpu"
	}
	if !js.Global().Get("navigator").Get("gpu").Truthy() {
		return cpu.New(), cpuBackendText, "no WebGPU in this browser"
	}
	ctx, cancel := context.WithTimeout(context.Background(), gpuOpenTimeout)
	defer cancel()
	b, err := gpu.New(ctx)
	if err != nil {
		return cpu.New(), cpuBackendText, fmt.Sprintf("WebGPU unavailable (%v)", err)
	}
	return b, "WebGPU backend", describeAdapter(b.Info())
}

// cpuBackend is the fallback after the WebGPU device is lost.
func cpuBackend() backend.Kernels { return cpu.New() }

const cpuBackendText = "CPU backend (Go wasm)"
