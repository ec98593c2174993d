package ui

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/bench"
	"webmae/engine/model"
)

// The /bench page measures the engine on this browser's WebGPU adapter
// (engine/bench: matmul GFLOP/s, attention forward+backward, training
// step images/s, where a step's host time goes, single-image
// reconstruction latency) and, in the same page and run, the same
// measurements with TensorFlow.js 4.22 on its WebGPU backend
// (bench_tfjs.js), then the ratios (bench_run.go). The page shows a
// summary table; every measurement is also one JSON object, under
// "details" and on the console ("webmae bench: {...}").
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
//	                         times every kernel of one training step,
//	                         only=profile-recon of one reconstruction;
//	                         only=cpu: the CPU worker against TensorFlow.js's
//	                         wasm backend, reconstruction only, no WebGPU
//	tfjs=0                   skip TensorFlow.js
//	replay=0                 record with the binding's per-call API instead
//	                         of the replayed dispatch list (to measure it)
//	subgroups=0              plain workgroup reductions even where the
//	                         adapter has subgroups (to measure them)
//	attnwg=64                threads per attention workgroup (default: 16
//	                         on software adapters, 64 on GPUs)
//	mmrows=64                tallest matmul tile, 16, 32 or 64 rows
//	                         (default: 32 on software adapters, 64 on GPUs)
//	mmdirect=0               the tiled matmul for every product (1:
//	                         matmul_direct, without workgroup memory, for
//	                         products read as vec4: the default on
//	                         software adapters)
//
// TensorFlow.js is loaded from /web/vendor/ (copied there by
// scripts/build-web.sh from e2e's devDependencies); the server says
// whether it is there (EnvTfjs), and without it the page measures webmae
// alone and says so.

// EnvTfjs is the environment variable (go-app's Env, set by the server
// and written into the static website's app.js) that is "1" when the
// site holds TensorFlow.js's scripts (benchTfjsScripts).
const EnvTfjs = "WEBMAE_TFJS"

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

// benchAdapter is the first line of a run: the adapter and what runs.
type benchAdapter struct {
	Name      string           `json:"name"` // "adapter"
	Backend   string           `json:"backend"`
	Adapter   *SelfTestAdapter `json:"adapter"`
	Replay    bool             `json:"replay"`
	Subgroups bool             `json:"subgroups"`
	AttnWG    int              `json:"attention_workgroup"`
	MMRows    int              `json:"matmul_tile_rows"`
	MMDirect  bool             `json:"matmul_direct"`
	Config    model.Config     `json:"config"`
	Preset    string           `json:"preset"`
	Batch     int              `json:"batch"`
}

// benchNote is a sentence about the run (name "tfjs": the comparison).
type benchNote struct {
	Name string `json:"name"`
	Note string `json:"note"`
}

// benchRow is one line of the summary table.
type benchRow struct {
	Measure, Backend, Figure, Note string
	Met                            *bool // a ratio's target: met, missed, or none
}

// Bench is the /bench page.
type Bench struct {
	app.Compo
	lines   []string // every measurement as JSON, in order
	rows    []benchRow
	adapter string
	notes   []string
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
	subgroups    bool
	attnWG       int // threads per attention workgroup; 0: the adapter's default
	mmRows       int // tallest matmul tile; 0: the adapter's default
	mmDirect     int // matmul_direct off (0) or on (1); -1: the adapter's default
}

func parseBenchOptions(q url.Values) (benchOptions, error) {
	o := benchOptions{preset: q.Get("preset"), batch: 8, steps: 5, minTime: time.Second, sizes: []int{256, 512, 1024},
		tfjs: q.Get("tfjs") != "0", replay: q.Get("replay") != "0", subgroups: q.Get("subgroups") != "0", mmDirect: -1}
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
	for _, e := range []error{num("batch", &o.batch, 1, 4096), num("steps", &o.steps, 1, 10000), num("mintime", &secs, 0, 3600),
		num("attnwg", &o.attnWG, 4, 256), num("mmrows", &o.mmRows, 16, 64), num("mmdirect", &o.mmDirect, 0, 1)} {
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
	for _, m := range []string{"dispatch", "matmul", "attention", "train", "recon", "profile", "profile-recon", "cpu"} {
		o.only[m] = q.Get("only") == "" && m != "profile" && m != "profile-recon" && m != "cpu"
	}
	if s := q.Get("only"); s != "" {
		for _, m := range strings.Split(s, ",") {
			if _, ok := o.only[m]; !ok {
				return o, fmt.Errorf("only: unknown measurement %q (want dispatch, matmul, attention, train, recon, profile, profile-recon, cpu)", m)
			}
			o.only[m] = true
		}
	}
	return o, nil
}

// OnMount runs the measurements in a goroutine.
func (b *Bench) OnMount(ctx app.Context) {
	if app.IsServer || !firstPage(ctx) {
		return
	}
	q := ctx.Page().URL().Query()
	ctx.Async(func() {
		emit := func(v any) {
			line := string(mustJSON(v))
			app.Log("webmae bench: " + line)
			ctx.Dispatch(func(app.Context) { b.add(line, v) })
		}
		status := func(s string) { ctx.Dispatch(func(app.Context) { b.running = s }) }
		err := runBench(q, app.Getenv(EnvTfjs) == "1", emit, status)
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

// add records one emitted measurement: its JSON line and its summary.
func (b *Bench) add(line string, v any) {
	b.lines = append(b.lines, line)
	switch v := v.(type) {
	case benchAdapter:
		b.adapter = v.Backend + " · " + adapterText(v.Adapter) + fmt.Sprintf(" · %s, batch %d", v.Preset, v.Batch)
	case benchNote:
		b.notes = append(b.notes, v.Note)
	case bench.Result:
		b.rows = append(b.rows, resultRow(v))
	case BenchRatio:
		b.rows = append(b.rows, ratioRow(v))
	}
}

// resultRow is a measurement's line of the summary.
func resultRow(r bench.Result) benchRow {
	note := fmt.Sprintf("%d repetitions in %.2f s", r.Reps, r.Seconds)
	if r.Reps == 1 {
		note = fmt.Sprintf("once, %.2f s", r.Seconds)
	}
	if r.Note != "" {
		note += "; " + r.Note
	}
	return benchRow{Measure: strings.TrimSpace(r.Name + " " + r.Shape), Backend: r.Backend, Figure: formatFigure(r.Value) + " " + r.Unit, Note: note}
}

// ratioRow is a comparison's line of the summary.
func ratioRow(r BenchRatio) benchRow {
	row := benchRow{Measure: r.Measure, Backend: "webmae vs TensorFlow.js", Figure: fmt.Sprintf("%.2fx", r.Speedup),
		Note: fmt.Sprintf("webmae %s %s, TensorFlow.js %s %s", formatFigure(r.Ours), r.Unit, formatFigure(r.Tfjs), r.Unit), Met: r.Met}
	if r.Met != nil {
		verdict := "missed"
		if *r.Met {
			verdict = "met"
		}
		row.Note += fmt.Sprintf("; target %gx %s", r.Target, verdict)
	}
	return row
}

// formatFigure writes a measured value with three significant digits,
// from 1000 on as a whole number.
func formatFigure(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Render draws the page: what runs, the summary table, the notes, and the
// JSON lines behind a "details" toggle.
func (b *Bench) Render() app.UI {
	return app.Div().Class("app", "bench", "report").Body(
		app.Header().Class("top").Body(
			app.Div().Class("brand").Body(
				app.A().Href("/").Body(app.Img().Src("/web/icon.svg").Alt("webmae").Width(32).Height(32)),
				app.H1().Text("WebGPU benchmark"),
			),
		),
		app.P().Text("Measures the engine on this browser's WebGPU adapter and, in the same run, TensorFlow.js 4.22's WebGPU backend "+
			"on the same shapes. Parameters: preset=micro|tiny|base or config=<HF config JSON>, "+
			"batch, steps, mintime (s), sizes, only=dispatch,matmul,attention,train,recon (or profile / profile-recon: time every kernel of a training step / a reconstruction), tfjs=0, replay=0, subgroups=0, attnwg=16|64, mmrows=32|64, mmdirect=0|1."),
		app.If(b.adapter != "", func() app.UI {
			return app.P().Attr("data-testid", "bench-adapter").Body(app.Strong().Text("Adapter: "), app.Text(b.adapter))
		}),
		app.If(b.running != "", func() app.UI {
			return app.P().Class("muted").Attr("data-testid", "bench-running").Text("Running: " + b.running + "…")
		}),
		app.If(b.errMsg != "", func() app.UI {
			return app.Div().Class("banner", "error").Role("alert").Text(b.errMsg)
		}),
		app.Range(b.notes).Slice(func(i int) app.UI {
			return app.P().Class("note").Attr("data-testid", "bench-note").Text(b.notes[i])
		}),
		b.renderTable(),
		app.Details().Class("raw").Body(
			app.Summary().Text("Details: every measurement as JSON"),
			app.Pre().Attr("data-testid", "bench-lines").DataSet("status", b.status).Text(strings.Join(b.lines, "\n")),
		),
	)
}

// renderTable is the summary: one row per measurement and comparison.
func (b *Bench) renderTable() app.UI {
	return app.Table().Class("summary").Attr("data-testid", "bench-summary").Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Scope("col").Class("col-name").Text("Measurement"),
			app.Th().Scope("col").Class("col-mid").Text("Backend"),
			app.Th().Scope("col").Class("col-mid").Text("Result"),
			app.Th().Scope("col").Text("Note"),
		)),
		app.TBody().Body(
			app.Range(b.rows).Slice(func(i int) app.UI {
				r := b.rows[i]
				return app.Tr().DataSet("met", metText(r.Met)).Body(
					app.Td().DataSet("label", "Measurement").Text(r.Measure),
					app.Td().DataSet("label", "Backend").Text(r.Backend),
					app.Td().DataSet("label", "Result").Class("figure").Text(r.Figure),
					app.Td().DataSet("label", "Note").Class("muted").Text(r.Note),
				)
			}),
		),
	)
}

func metText(met *bool) string {
	switch {
	case met == nil:
		return ""
	case *met:
		return "met"
	default:
		return "missed"
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
