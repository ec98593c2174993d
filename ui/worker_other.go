//go:build !(js && wasm)

package ui

import (
	"webmae/engine/backend"
	"webmae/engine/bench"
)

// startWorkerFor gives no worker natively: the native CPU backend is the
// process's own, and there is no page to keep responsive.
func startWorkerFor(backend.Kernels) *workerRecon { return nil }

// benchWorkerRecon needs a browser (a Web Worker).
func benchWorkerRecon([]byte, string, int) (bench.Result, error) { return bench.Result{}, errNoBrowser }

// yieldToPage is for the browser's event loop; natively there is none.
func yieldToPage() {}
