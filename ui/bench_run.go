package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"webmae/engine/bench"
	"webmae/engine/gpu"
	"webmae/internal/offline"
)

// The /bench page's run: our measurements on WebGPU, then TensorFlow.js's
// on the same shapes (bench_js.go loads it), then the ratios.

// benchTfjsDir holds TensorFlow.js's files (benchTfjsScripts and, for
// only=cpu, its wasm backend's script and binaries).
const benchTfjsDir = "/web/vendor/"

// tfjsAbsent and tfjsSkipped are the sentences the page shows when it
// measures webmae alone.
const (
	tfjsAbsent  = "TensorFlow.js is not installed on this site (web/vendor/), so this page measures webmae alone."
	tfjsSkipped = "TensorFlow.js is skipped (tfjs=0), so this page measures webmae alone."
)

// runBench runs our measurements, then TensorFlow.js's when the site has
// it (haveTfjs) and the URL does not skip it, then the ratios.
func runBench(q url.Values, haveTfjs bool, emit func(any), status func(string)) error {
	o, err := parseBenchOptions(q)
	if err != nil {
		return err
	}
	if o.only["cpu"] {
		return runBenchCPU(o, haveTfjs, emit, status) // the CPU worker against tfjs's wasm backend (worker_bench.go)
	}
	ours, err := runOurs(o, emit, status)
	if err != nil {
		return err
	}
	if !tfjsWanted(o, haveTfjs, emit) {
		return nil
	}
	status("loading TensorFlow.js")
	if err := loadTfjs(); err != nil {
		emit(benchNote{Name: "tfjs", Note: "TensorFlow.js could not be loaded (" + err.Error() + "), so this page measures webmae alone."})
		return nil
	}
	keepOffline("TensorFlow.js's files", offline.Loaded(benchTfjsDir))
	theirs, err := runTfjs(o, emit, status)
	if err != nil {
		return err
	}
	for _, r := range ratios(ours, theirs) {
		emit(r)
	}
	return nil
}

// runOurs opens the WebGPU device, compiles every pipeline (a measurement
// of its own) and runs the chosen measurements on it.
func runOurs(o benchOptions, emit func(any), status func(string)) ([]bench.Result, error) {
	status("opening the WebGPU device")
	g, err := openSelfTestGPU()
	if err != nil {
		return nil, err
	}
	defer g.Release()
	g.SetReplay(o.replay)
	if !o.subgroups {
		g.UseSubgroups(false) // never fails when turning them off
	}
	if o.attnWG != 0 {
		if err := g.UseAttentionWorkgroup(o.attnWG); err != nil {
			return nil, fmt.Errorf("attnwg: %w", err)
		}
	}
	if o.mmRows != 0 {
		if err := g.UseMatmulTileRows(o.mmRows); err != nil {
			return nil, fmt.Errorf("mmrows: %w", err)
		}
	}
	if o.mmDirect >= 0 {
		g.UseMatmulDirect(o.mmDirect == 1)
	}
	emit(benchAdapter{Name: "adapter", Backend: g.Name(), Adapter: adapterOf(g.Info()), Replay: g.Replay(), Subgroups: g.Subgroups(),
		AttnWG: g.AttentionWorkgroup(), MMRows: g.MatmulTileRows(), MMDirect: g.MatmulDirect(),
		Config: o.cfg, Preset: o.preset, Batch: o.batch})
	status("compiling the WebGPU pipelines")
	t0 := time.Now()
	if err := g.Warm(); err != nil {
		return nil, err
	}
	emit(bench.Result{Backend: g.Name(), Name: "pipelines", Shape: "all kernels", Value: float64(time.Since(t0).Milliseconds()), Unit: "ms", Reps: 1,
		Seconds: time.Since(t0).Seconds(), Note: "compiling every WGSL pipeline once"})
	var ours []bench.Result
	for _, m := range ourMeasurements(g, o) {
		status(m.what + " (WebGPU)")
		rs, err := m.run()
		for _, r := range rs {
			emit(r)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.what, err)
		}
		ours = append(ours, rs...)
	}
	return ours, nil
}

// measurement is one step of a run: what it measures (for the status
// line) and how.
type measurement struct {
	what string
	run  func() ([]bench.Result, error)
}

// one adapts a measurement of one result.
func one(f func() (bench.Result, error)) func() ([]bench.Result, error) {
	return func() ([]bench.Result, error) {
		r, err := f()
		if err != nil {
			return nil, err
		}
		return []bench.Result{r}, nil
	}
}

// ourMeasurements lists the measurements o chooses, in order.
func ourMeasurements(g *gpu.Backend, o benchOptions) []measurement {
	var ms []measurement
	if o.only["dispatch"] {
		ms = append(ms, measurement{"kernel launch", one(func() (bench.Result, error) { return bench.Dispatch(g, 100, o.minTime) })})
	}
	if o.only["matmul"] {
		for _, n := range o.sizes {
			ms = append(ms, measurement{fmt.Sprintf("matmul %d", n), one(func() (bench.Result, error) { return bench.Matmul(g, n, o.minTime) })})
		}
	}
	if o.only["attention"] {
		ms = append(ms, measurement{"attention", one(func() (bench.Result, error) {
			return bench.Attention(g, o.preset, o.cfg, o.batch, o.minTime)
		})})
	}
	if o.only["train"] {
		ms = append(ms, measurement{"training step", one(func() (bench.Result, error) {
			return bench.TrainStep(g, o.preset, o.cfg, o.batch, o.steps, o.minTime)
		})}, measurement{"training step host time", one(func() (bench.Result, error) {
			return bench.TrainStepRecord(g, o.preset, o.cfg, o.batch, o.steps, o.minTime)
		})})
	}
	if o.only["recon"] {
		ms = append(ms, measurement{"reconstruction", one(func() (bench.Result, error) {
			return bench.Reconstruct(g, o.preset, o.cfg, 3, o.minTime)
		})})
	}
	if o.only["profile"] {
		ms = append(ms, measurement{"profiling a training step", func() ([]bench.Result, error) { return profileKernels(g, o, true) }})
	}
	if o.only["profile-recon"] {
		ms = append(ms, measurement{"profiling a reconstruction", func() ([]bench.Result, error) { return profileKernels(g, o, false) }})
	}
	return ms
}

// runTfjs runs TensorFlow.js's side of the chosen measurements (after
// loadTfjs).
func runTfjs(o benchOptions, emit func(any), status func(string)) ([]bench.Result, error) {
	cfgJSON := json.RawMessage(mustJSON(o.cfg)) // Hugging Face field names
	ms := float64(o.minTime.Milliseconds())
	type call struct {
		what, fn string
		args     []any
	}
	var calls []call
	if o.only["matmul"] {
		for _, n := range o.sizes {
			calls = append(calls, call{fmt.Sprintf("matmul %d", n), "matmul", []any{n, ms}})
		}
	}
	if o.only["attention"] {
		calls = append(calls, call{"attention", "attention", []any{cfgJSON, o.preset, o.batch, ms}})
	}
	if o.only["train"] {
		calls = append(calls, call{"training step", "trainStep", []any{cfgJSON, o.preset, o.batch, o.steps, ms}})
	}
	if o.only["recon"] {
		calls = append(calls, call{"reconstruction", "reconstruct", []any{cfgJSON, o.preset, 3, ms}})
	}
	var theirs []bench.Result
	for _, c := range calls {
		status(c.what + " (TensorFlow.js)")
		r, err := tfjsCall(c.fn, c.args...)
		if err != nil {
			return nil, fmt.Errorf("TensorFlow.js %s: %w", c.what, err)
		}
		theirs = append(theirs, r)
		emit(r)
	}
	return theirs, nil
}

// benchTargets are the targets: ours/tfjs speedups.
var benchTargets = map[string]float64{
	"reconstruct_cpu":    1, // the CPU worker against tfjs's wasm backend: at least as fast
	"matmul 512x512x512": 1.5, "matmul 1024x1024x1024": 1.5, "train_step": 3, "reconstruct": 3,
}

// ratios pairs our results with TensorFlow.js's of the same name and shape.
func ratios(ours, theirs []bench.Result) []BenchRatio {
	var out []BenchRatio
	for _, t := range theirs {
		for _, o := range ours {
			if o.Name != t.Name || o.Shape != t.Shape || o.Unit != t.Unit || o.Value == 0 || t.Value == 0 {
				continue
			}
			r := BenchRatio{Name: "ratio", Measure: o.Name + " " + o.Shape, Ours: o.Value, Tfjs: t.Value, Unit: o.Unit}
			if o.Unit == "ms" {
				r.Speedup = t.Value / o.Value
			} else {
				r.Speedup = o.Value / t.Value
			}
			target, ok := benchTargets[o.Name+" "+o.Shape]
			if !ok {
				target, ok = benchTargets[o.Name]
			}
			if ok {
				met := r.Speedup >= target
				r.Target, r.Met = target, &met
			}
			out = append(out, r)
		}
	}
	return out
}

// kernelProfiler is engine/gpu's Backend in the browser.
type kernelProfiler interface {
	Profile(run func()) ([]gpu.KernelTime, error)
}

// profileKernels times every kernel of one training step at o.batch
// images (training) or of one reconstruction's forward pass at one image
// (each dispatch submitted and awaited alone): one result per kernel, the
// largest first, in ms per step.
func profileKernels(g *gpu.Backend, o benchOptions, training bool) ([]bench.Result, error) {
	p, ok := any(g).(kernelProfiler)
	if !ok {
		return nil, errors.New("profile: only in the browser")
	}
	batch, what := o.batch, "train step"
	if !training {
		batch, what = 1, "reconstruction"
	}
	m, pass, err := bench.RandomPass(g, o.cfg, batch)
	if err != nil {
		return nil, err
	}
	step := pass.Forward
	if training {
		step = func() { pass.Forward(); pass.Backward(); m.AdamW(1e-4) }
	}
	step() // compile and create everything first
	if _, err := pass.Loss(); err != nil {
		return nil, err
	}
	times, err := p.Profile(step)
	if err != nil {
		return nil, err
	}
	total := 0.0
	for _, t := range times {
		total += t.Ms
	}
	var out []bench.Result
	for _, t := range times {
		out = append(out, bench.Result{Backend: g.Name(), Name: "kernel_profile", Shape: fmt.Sprintf("%s b=%d %s: %s", o.preset, batch, what, t.Kernel),
			Value: t.Ms, Unit: "ms", Reps: t.Count, Seconds: t.Ms / 1000,
			Note: fmt.Sprintf("%.1f%% of %.0f ms; %d dispatches, each submitted and awaited alone", 100*t.Ms/total, total, t.Count)})
	}
	return out, nil
}

// tfjsWanted says whether the TensorFlow.js side runs: asked for (tfjs=0
// turns it off) and installed in the site; else it notes why not.
func tfjsWanted(o benchOptions, haveTfjs bool, emit func(any)) bool {
	switch {
	case !o.tfjs:
		emit(benchNote{Name: "tfjs", Note: tfjsSkipped})
		return false
	case !haveTfjs:
		emit(benchNote{Name: "tfjs", Note: tfjsAbsent})
		return false
	}
	return true
}
