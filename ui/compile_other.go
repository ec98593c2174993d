//go:build !(js && wasm)

package ui

import "webmae/engine/backend"

// Outside the browser there are no pipelines to compile (see compile_js.go).
func (p *Page) compileFirst(backend.Kernels) {}

func (p *Page) compileTraining(backend.Kernels, *trainRun) {}
