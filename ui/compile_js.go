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
// first reconstruction of the default bundled model (read from its
// config.json) in parallel, showing "k of n" in the loading banner and on
// the panels (actionCompileProgress), while the page fetches the model
// (Page.startup); the pipelines other shapes need compile on first use.
// It does nothing on the CPU backend, without a bundled model, or with
// ?precompile=0 (pipelines compiled one by one on first use: the
// comparison e2e/bench-first-recon.mjs makes). Failures are left to the
// reconstruction, which reports them.
func compileFirst(ctx app.Context, s *session) {
	avail := availableBundled()
	if len(avail) == 0 || precompileOff() {
		return
	}
	data, found, err := fetchBytes(ModelsURL+avail[0].Dir+model.ConfigFileName, nil)
	if err != nil || !found {
		return
	}
	cfg, err := model.ParseConfig(data)
	if err != nil {
		return
	}
	banner := bannerProgress(ctx, "Compiling the reconstruction's GPU kernels", "Loading "+avail[0].Source)
	total := 0
	s.do(func(k backend.Kernels) error {
		err := compileWorkload(k, gpu.ReconstructionWorkload(cfg), func(done, n int) {
			total = n
			banner(done, n)
			ctx.NewActionWithValue(actionCompileProgress, compileProgress{Done: done, Total: n})
		})
		if err != nil { // the banner and the panels' overlay end as if done
			banner(total, total)
			ctx.NewActionWithValue(actionCompileProgress, compileProgress{Done: total, Total: total})
		}
		return nil
	})
	mark("pipelines")
}

// compileTraining compiles the pipelines of a training step of cfg at
// batch images (the backward pass and AdamW) before the first step,
// telling progress of each pipeline compiled (done of total).
func compileTraining(s *session, cfg model.Config, batch int, progress func(done, total int)) {
	if precompileOff() {
		return
	}
	w := gpu.Workload{Config: cfg, Batch: batch, Keep: cfg.NumKeep(cfg.MaskRatio), Training: true}
	s.do(func(k backend.Kernels) error {
		_ = compileWorkload(k, w, progress) // a failure is the first step's to report
		return nil
	})
}

// compileWorkload runs Compile on a WebGPU backend k, telling progress;
// the error is the caller's to show or leave to the first use.
func compileWorkload(k backend.Kernels, w gpu.Workload, progress func(done, total int)) error {
	if g, ok := k.(*gpu.Backend); ok {
		return g.Compile(context.Background(), w, progress)
	}
	return nil
}

// bannerProgress shows compilation progress in the loading banner, which
// shows after (no banner when "") once done.
func bannerProgress(ctx app.Context, what, after string) func(done, total int) {
	return func(done, total int) {
		if done == total {
			setLoading(ctx, after, -1)
			return
		}
		setLoading(ctx, fmt.Sprintf("%s (%d of %d)", what, done, total), float64(done)/float64(total))
	}
}

func precompileOff() bool {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	return err == nil && u.Query().Get("precompile") == "0"
}
