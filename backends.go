package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/gpu"
)

// openBackend returns the kernels named by a --backend flag: "cpu", "gpu"
// (WebGPU through wgpu-native: a real GPU, or Mesa's lavapipe on the CPU),
// or "auto": the GPU when its adapter is a real GPU, else the CPU backend,
// which is several times faster than lavapipe on the same cores.
func openBackend(name string) (backend.Kernels, error) {
	switch name {
	case "cpu":
		return cpu.New(), nil
	case "gpu", "auto":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		g, err := gpu.New(ctx)
		if name == "gpu" {
			if err != nil {
				return nil, fmt.Errorf("open gpu backend: %w", err)
			}
			return g, nil
		}
		if err == nil && !isSoftware(g.Info()) {
			return g, nil
		}
		if err == nil {
			g.Release()
			fmt.Fprintf(os.Stderr, "auto backend: %s is a software adapter; using the CPU backend\n", g.Name())
		}
		return cpu.New(), nil
	default:
		return nil, fmt.Errorf("unknown backend %q (want cpu, gpu or auto)", name)
	}
}

// isSoftware reports whether a WebGPU adapter runs on the CPU (Mesa's
// lavapipe/llvmpipe, SwiftShader).
func isSoftware(info gpu.Info) bool {
	n := strings.ToLower(info.Adapter)
	return info.AdapterType == "cpu" || strings.Contains(n, "llvmpipe") || strings.Contains(n, "lavapipe") || strings.Contains(n, "swiftshader")
}
