package ui

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/bench"
	"webmae/engine/gpu"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// The /bench page measures the engine on this browser's WebGPU adapter
// (engine/bench: matmul GFLOP/s, attention forward+backward, training
// step images/s, where a step's host time goes, single-image
// reconstruction latency) and, in the same page and run, the same
// measurements with TensorFlow.js 4.22 on its WebGPU backend
// (bench_tfjs.js), then the ratios. Every measurement is one JSON object,
// printed on the page and on the console ("webmae bench: {...}").
//
// URL parameters:
//
//	preset=micro|tiny|base   model shapes (default micro)
//	config=<HF config JSON>  any ViTMAE config (URL-encoded), instead of a preset
//	batch=8                  training batch
//	steps=5                  at least this many timed training steps
//	mintime=1                seconds each measurement runs at least
//	sizes=256,512,1024       matmul sizes
//	only=dispatch,matmul,attention,train,recon   a subset; only=profile
//	                         times every kernel of one training step
//	tfjs=0                   skip TensorFlow.js
//	replay=0                 record with the binding's per-call API instead
//	                         of the replayed dispatch list (to measure it)
//
// TensorFlow.js is loaded from /web/vendor/ (copied there by
// scripts/build-web.sh from e2e's devDependencies); without it the page
// prints our measurements and says that the comparison is unavailable.

//go:embed bench_tfjs.js
var benchTfjsJS string

// Where the page loads TensorFlow.js from.
var benchTfjsScripts = []string{"/web/vendor/tf.min.js", "/web/vendor/tf-backend-webgpu.min.js"}

// BenchRatio compares one measurement of ours with TensorFlow.js's.
type BenchRatio struct {
	Name    string  `json:"name"` // "ratio"
	Measure string  `json:"measure"`
	Ours    float64 `json:"ours"`
	Tfjs    float64 `json:"tfjs"`
	Unit    string  `json:"unit"`
	Speedup float64 `json:"speedup"` // ours/tfjs for rates, tfjs/ours for times
	Target  float64 `json:"target,omitempty"`
	Met     *bool   `json:"met,omitempty"`
}

// Bench is the /bench page.
type Bench struct {
	app.Compo
	lines   []string
	status  string // running, done, error
	running string
	errMsg  string
}

// OnInit sets the initial state.
func (b *Bench) OnInit() { b.status, b.running = "running", "starting" }

// benchOptions are the page's URL parameters.
type benchOptions struct {
	preset       string
	cfg          model.Config
	batch, steps int
	minTime      time.Duration
	sizes        []int
	only         map[string]bool
	tfjs, replay bool
}

func parseBenchOptions(q url.Values) (benchOptions, error) {
	o := benchOptions{preset: q.Get("preset"), batch: 8, steps: 5, minTime: time.Second, sizes: []int{256, 512, 1024},
		tfjs: q.Get("tfjs") != "0", replay: q.Get("replay") != "0"}
	if o.preset == "" {
		o.preset = model.PresetMicro
	}
	var err error
	if c := q.Get("config"); c != "" {
		if o.cfg, err = model.ParseConfig([]byte(c)); err != nil {
			return o, fmt.Errorf("config: %w", err)
		}
		o.preset = fmt.Sprintf("%dpx/p%d/%dx%d/dec%dx%d", o.cfg.ImageSize, o.cfg.PatchSize, o.cfg.HiddenSize, o.cfg.NumHiddenLayers,
			o.cfg.DecoderHiddenSize, o.cfg.DecoderNumHiddenLayers)
	} else if o.cfg, err = model.Preset(o.preset); err != nil {
		return o, err
	}
	num := func(name string, dst *int, lo, hi int) error {
		s := q.Get(name)
		if s == "" {
			return nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return fmt.Errorf("%s=%q: want an integer in [%d, %d]", name, s, lo, hi)
		}
		*dst = v
		return nil
	}
	secs := 1
	for _, e := range []error{num("batch", &o.batch, 1, 4096), num("steps", &o.steps, 1, 10000), num("mintime", &secs, 0, 3600)} {
		if e != nil {
			return o, e
		}
	}
	o.minTime = time.Duration(secs) * time.Second
	if s := q.Get("sizes"); s != "" {
		o.sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 || n > 8192 {
				return o, fmt.Errorf("sizes: %q is not a matrix size in [1, 8192]", f)
			}
			o.sizes = append(o.sizes, n)
		}
	}
	o.only = map[string]bool{}
	for _, m := range []string{"dispatch", "matmul", "attention", "train", "recon", "profile"} {
		o.only[m] = q.Get("only") == "" && m != "profile"
	}
	if s := q.Get("only"); s != "" {
		for _, m := range strings.Split(s, ",") {
			if _, ok := o.only[m]; !ok {
				return o, fmt.Errorf("only: unknown measurement %q (want dispatch, matmul, attention, train, recon, profile)", m)
			}
			o.only[m] = true
		}
	}
	return o, nil
}

// OnMount runs the measurements in a goroutine.
func (b *Bench) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	q := ctx.Page().URL().Query()
	ctx.Async(func() {
		emit := func(v any) {
			js, _ := json.Marshal(v)
			line := string(js)
			app.Log("webmae bench: " + line)
			ctx.Dispatch(func(app.Context) { b.lines = append(b.lines, line) })
		}
		status := func(s string) { ctx.Dispatch(func(app.Context) { b.running = s }) }
		err := runBench(q, emit, status)
		ctx.Dispatch(func(app.Context) {
			b.running = ""
			b.status = "done"
			if err != nil {
				b.status, b.errMsg = "error", err.Error()
				app.Log("webmae bench: error: " + err.Error())
			}
		})
	})
}

// runBench runs our measurements, then TensorFlow.js's, then the ratios.
func runBench(q url.Values, emit func(any), status func(string)) error {
	o, err := parseBenchOptions(q)
	if err != nil {
		return err
	}
	status("opening the WebGPU device")
	g, err := openSelfTestGPU()
	if err != nil {
		return err
	}
	g.SetReplay(o.replay)
	emit(map[string]any{"name": "adapter", "backend": g.Name(), "adapter": adapterOf(g.Info()), "replay": g.Replay(),
		"config": o.cfg, "preset": o.preset, "batch": o.batch})
	status("compiling the WebGPU pipelines")
	t0 := time.Now()
	if err := g.Warm(); err != nil {
		g.Release()
		return err
	}
	emit(bench.Result{Backend: g.Name(), Name: "pipelines", Shape: "all kernels", Value: float64(time.Since(t0).Milliseconds()), Unit: "ms", Reps: 1,
		Seconds: time.Since(t0).Seconds(), Note: "compiling every WGSL pipeline once"})

	var ours []bench.Result
	run := func(what string, f func() (bench.Result, error)) error {
		status(what + " (WebGPU)")
		r, err := f()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		ours = append(ours, r)
		emit(r)
		return nil
	}
	var steps []func() error
	if o.only["dispatch"] {
		steps = append(steps, func() error {
			return run("kernel launch", func() (bench.Result, error) { return bench.Dispatch(g, 100, o.minTime) })
		})
	}
	if o.only["matmul"] {
		for _, n := range o.sizes {
			steps = append(steps, func() error {
				return run(fmt.Sprintf("matmul %d", n), func() (bench.Result, error) { return bench.Matmul(g, n, o.minTime) })
			})
		}
	}
	if o.only["attention"] {
		steps = append(steps, func() error {
			return run("attention", func() (bench.Result, error) { return bench.Attention(g, o.preset, o.cfg, o.batch, o.minTime) })
		})
	}
	if o.only["train"] {
		steps = append(steps, func() error {
			return run("training step", func() (bench.Result, error) {
				return bench.TrainStep(g, o.preset, o.cfg, o.batch, o.steps, o.minTime)
			})
		}, func() error {
			return run("training step host time", func() (bench.Result, error) {
				return bench.TrainStepRecord(g, o.preset, o.cfg, o.batch, o.steps, o.minTime)
			})
		})
	}
	if o.only["recon"] {
		steps = append(steps, func() error {
			return run("reconstruction", func() (bench.Result, error) { return bench.Reconstruct(g, o.preset, o.cfg, 3, o.minTime) })
		})
	}
	if o.only["profile"] {
		steps = append(steps, func() error {
			status("profiling a training step (WebGPU)")
			rs, err := profileTrainStep(g, o)
			for _, r := range rs {
				emit(r)
			}
			return err
		})
	}
	for _, s := range steps {
		if err := s(); err != nil {
			g.Release()
			return err
		}
	}
	g.Release()

	if !o.tfjs {
		return nil
	}
	status("loading TensorFlow.js")
	if err := loadTfjs(); err != nil {
		emit(map[string]any{"name": "tfjs", "note": "TensorFlow.js comparison unavailable: " + err.Error()})
		return nil
	}
	if _, err := tfjsCall("init"); err != nil {
		emit(map[string]any{"name": "tfjs", "note": "TensorFlow.js comparison unavailable: " + err.Error()})
		return nil
	}
	cfgJSON := json.RawMessage(mustJSON(o.cfg)) // Hugging Face field names
	ms := float64(o.minTime.Milliseconds())
	var theirs []bench.Result
	tf := func(what, fn string, args ...any) error {
		status(what + " (TensorFlow.js)")
		r, err := tfjsCall(fn, args...)
		if err != nil {
			return fmt.Errorf("tfjs %s: %w", what, err)
		}
		theirs = append(theirs, r)
		emit(r)
		return nil
	}
	if o.only["matmul"] {
		for _, n := range o.sizes {
			if err := tf(fmt.Sprintf("matmul %d", n), "matmul", n, ms); err != nil {
				return err
			}
		}
	}
	if o.only["attention"] {
		if err := tf("attention", "attention", cfgJSON, o.preset, o.batch, ms); err != nil {
			return err
		}
	}
	if o.only["train"] {
		if err := tf("training step", "trainStep", cfgJSON, o.preset, o.batch, o.steps, ms); err != nil {
			return err
		}
	}
	if o.only["recon"] {
		if err := tf("reconstruction", "reconstruct", cfgJSON, o.preset, 3, ms); err != nil {
			return err
		}
	}
	for _, r := range ratios(ours, theirs) {
		emit(r)
	}
	return nil
}

// benchTargets are the targets: ours/tfjs speedups.
var benchTargets = map[string]float64{
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

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// loadTfjs loads TensorFlow.js and bench_tfjs.js into the page once.
func loadTfjs() error {
	w := app.Window()
	if w.Get("webmaeTfjs").Truthy() {
		return nil
	}
	load := w.Get("Function").New("src", `return new Promise((ok, fail) => {
		const s = document.createElement('script');
		s.src = src;
		s.onload = () => ok(true);
		s.onerror = () => fail(new Error('could not load ' + src + ' (run scripts/build-web.sh with e2e/node_modules installed)'));
		document.head.appendChild(s);
	})`)
	for _, src := range benchTfjsScripts {
		if _, err := awaitApp(load.Invoke(src)); err != nil {
			return err
		}
	}
	s := w.Get("document").Call("createElement", "script")
	s.Set("text", benchTfjsJS)
	w.Get("document").Get("head").Call("appendChild", s)
	if !w.Get("webmaeTfjs").Truthy() {
		return errors.New("bench_tfjs.js did not define webmaeTfjs")
	}
	return nil
}

// tfjsCall calls webmaeTfjs[fn] with JSON arguments and decodes its result.
func tfjsCall(fn string, args ...any) (bench.Result, error) {
	if args == nil {
		args = []any{}
	}
	v, err := awaitApp(app.Window().Get("webmaeTfjs").Call(fn, string(mustJSON(args))))
	if err != nil {
		return bench.Result{}, err
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(v.String()), &r); err != nil {
		return bench.Result{}, fmt.Errorf("tfjs %s result: %w", fn, err)
	}
	return r, nil
}

// Render draws the page.
func (b *Bench) Render() app.UI {
	return app.Div().Class("app", "bench").Body(
		app.Header().Class("top").Body(
			app.Div().Class("brand").Body(
				app.A().Href("/").Body(app.Img().Src("/web/icon.svg").Alt("webmae").Width(32).Height(32)),
				app.H1().Text("WebGPU benchmark"),
			),
		),
		app.P().Text("Measures the engine on this browser's WebGPU adapter and, in the same run, TensorFlow.js 4.22's WebGPU backend "+
			"on the same shapes; one JSON object per measurement. Parameters: preset=micro|tiny|base or config=<HF config JSON>, "+
			"batch, steps, mintime (s), sizes, only=dispatch,matmul,attention,train,recon (or profile: time every kernel of a training step), tfjs=0, replay=0."),
		app.If(b.running != "", func() app.UI {
			return app.P().Class("muted").Attr("data-testid", "bench-running").Text("Running: " + b.running + "…")
		}),
		app.If(b.errMsg != "", func() app.UI {
			return app.Div().Class("banner", "error").Role("alert").Text(b.errMsg)
		}),
		app.Pre().Attr("data-testid", "bench-lines").DataSet("status", b.status).Text(strings.Join(b.lines, "\n")),
	)
}

// kernelProfiler is engine/gpu's Backend in the browser.
type kernelProfiler interface {
	Profile(run func()) ([]gpu.KernelTime, error)
}

// profileTrainStep times every kernel of one training step (each
// dispatch submitted and awaited alone): one result per kernel, the
// largest first, in ms per step.
func profileTrainStep(g *gpu.Backend, o benchOptions) ([]bench.Result, error) {
	p, ok := any(g).(kernelProfiler)
	if !ok {
		return nil, errors.New("profile: only in the browser")
	}
	m, err := mae.NewInit(g, o.cfg, 1)
	if err != nil {
		return nil, err
	}
	keep := o.cfg.NumKeep(o.cfg.MaskRatio)
	pass, err := m.NewPass(o.batch, keep)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(3, 2))
	img := make([]float32, o.batch*o.cfg.NumChannels*o.cfg.ImageSize*o.cfg.ImageSize)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	l := o.cfg.NumPatches()
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, o.batch, l), o.batch, l, keep)
	if err != nil {
		return nil, err
	}
	if err := pass.SetInputs(img, mk); err != nil {
		return nil, err
	}
	step := func() { pass.Forward(); pass.Backward(); m.AdamW(1e-4) }
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
		out = append(out, bench.Result{Backend: g.Name(), Name: "kernel_profile", Shape: fmt.Sprintf("%s b=%d train step: %s", o.preset, o.batch, t.Kernel),
			Value: t.Ms, Unit: "ms", Reps: t.Count, Seconds: t.Ms / 1000,
			Note: fmt.Sprintf("%.1f%% of %.0f ms; %d dispatches, each submitted and awaited alone", 100*t.Ms/total, total, t.Count)})
	}
	return out, nil
}
