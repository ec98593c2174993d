//go:build js && wasm

package ui

import (
	"context"
	"fmt"
	"net/url"
	"syscall/js"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/gpu"
	"webmae/engine/model"
)

// compileFirst compiles, on the WebGPU backend, the pipelines of the
// first reconstruction of the bundled model (read from its config.json)
// in parallel, showing "k of n" in the loading banner, before the model is
// uploaded; the pipelines other shapes need compile on first use. It does
// nothing on the CPU backend, without a bundled config, or with
// ?precompile=0 (pipelines compiled one by one on first use: the
// comparison e2e/bench-first-recon.mjs makes). Failures are left to the
// reconstruction, which reports them.
func (p *Page) compileFirst(k backend.Kernels) {
	g, ok := k.(*gpu.Backend)
	if !ok || precompileOff() {
		return
	}
	data, found, err := fetchBytes(ModelsURL+model.ConfigFileName, nil)
	if err != nil || !found {
		return
	}
	cfg, err := model.ParseConfig(data)
	if err != nil {
		return
	}
	p.compile(g, gpu.ReconstructionWorkload(cfg), "Compiling the reconstruction's GPU kernels", "Loading the default model")
	mark("pipelines")
}

// compileTraining compiles the pipelines of run's training step (the
// backward pass and AdamW) before its first step, showing progress in the
// loading banner.
func (p *Page) compileTraining(k backend.Kernels, run *trainRun) {
	g, ok := k.(*gpu.Backend)
	if !ok || precompileOff() {
		return
	}
	c := run.Model.Config
	w := gpu.Workload{Config: c, Batch: run.Settings.Batch, Keep: c.NumKeep(c.MaskRatio), Training: true}
	p.compile(g, w, "Compiling the training step's GPU kernels", "")
}

// compile runs g.Compile with its progress in the loading banner, which
// shows after (no banner when "") once done.
func (p *Page) compile(g *gpu.Backend, w gpu.Workload, what, after string) {
	err := g.Compile(context.Background(), w, func(done, total int) {
		p.ctx.Dispatch(func(app.Context) {
			if done == total {
				p.loading, p.progress = after, -1
				return
			}
			p.loading = fmt.Sprintf("%s (%d of %d)", what, done, total)
			p.progress = float64(done) / float64(total)
		})
	})
	if err != nil {
		p.ctx.Dispatch(func(app.Context) { p.loading, p.progress = after, -1 })
	}
}

func precompileOff() bool {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	return err == nil && u.Query().Get("precompile") == "0"
}
