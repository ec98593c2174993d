package main

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/cpu"
)

// openBackend returns the kernels named by a --backend flag: "cpu", or
// "auto" (the fastest available here).
func openBackend(name string) (backend.Kernels, error) {
	switch name {
	case "cpu", "auto":
		return cpu.New(), nil
	default:
		return nil, fmt.Errorf("unknown backend %q (want cpu or auto)", name)
	}
}
