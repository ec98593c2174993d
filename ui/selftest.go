package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/gpu"
	"webmae/engine/harness"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// The /selftest page runs the PyTorch parity check of `go test
// ./engine/harness ./engine/gpu` in the browser: the four reference cases
// of testdata/reference (mae_tiny and mae_tiny_normpix, each with Hugging
// Face and official weight names: loss, logits, mask, every gradient and
// three AdamW steps) and the tutorial family's two (selftest_tutorial.go)
// on the WebGPU backend, then on the CPU backend (Go wasm) for comparison. A user opens it to check that their GPU computes
// what PyTorch does. The reference files are copied into the site by
// scripts/build-web.sh (web/reference/).
//
// /selftest?base=1 (&reps=2 for a second, timed forward pass; &window=128
// to bind at most 128 MiB per storage binding, as WebGPU's default limit
// does, when the adapter allows more) instead loads a randomly initialised `base` model
// (facebook/vit-mae-base shapes, 112M parameters, 448 MB of float32: more
// than WebGPU's default 128 MiB storage binding and 256 MiB buffer) on the
// WebGPU backend, reconstructs one 224 px image and compares the loss and a
// prediction checksum with the native CPU backend's (baseExpected).
//
// The outcome is also machine-readable: the element with
// data-testid="selftest-result" has data-status "running", "pass" or
// "fail" and holds SelfTestResult as JSON; the JSON is printed on the
// console too.

// SelfTestReferenceURL is where the page fetches the reference files.
const SelfTestReferenceURL = "/web/reference/"

// selfTestReferences are the reference models: each config and io file
// with its two weight files.
var selfTestReferences = []string{"mae_tiny", "mae_tiny_normpix"}

// SelfTestCase is the outcome of one reference case on one backend.
type SelfTestCase struct {
	Backend  string   `json:"backend"` // "webgpu" or "cpu"
	Name     string   `json:"name"`    // weights file
	OK       bool     `json:"ok"`
	Ms       float64  `json:"ms"`
	Lines    []string `json:"lines"`
	Failures []string `json:"failures,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// SelfTestAdapter describes the WebGPU adapter.
type SelfTestAdapter struct {
	Name        string   `json:"name"`
	Vendor      string   `json:"vendor,omitempty"`
	Description string   `json:"description,omitempty"`
	Type        string   `json:"type,omitempty"`
	Features    []string `json:"features,omitempty"`
	// Granted limits the engine depends on.
	MaxStorageBufferBindingSize uint64 `json:"maxStorageBufferBindingSize"`
	MaxBufferSize               uint64 `json:"maxBufferSize"`
	MaxWorkgroupStorageSize     uint32 `json:"maxComputeWorkgroupStorageSize"`
}

// SelfTestBase is the outcome of the base-model reconstruction.
type SelfTestBase struct {
	Params       int     `json:"params"`
	Loss         float32 `json:"loss"`
	ExpectedLoss float32 `json:"expected_loss"`
	Checksum     float64 `json:"checksum"` // mean |prediction|
	Expected     float64 `json:"expected_checksum"`
	MSE          float64 `json:"mse"` // of the masked patches, normalised pixels
	PSNR         float64 `json:"psnr"`
	InitMs       float64 `json:"init_ms"`             // host init and upload
	ForwardMs    float64 `json:"forward_ms"`          // first forward incl. pipeline compiles
	SecondMs     float64 `json:"second_ms,omitempty"` // second forward (?reps=2), compiled
}

// SelfTestResult is the page's machine-readable outcome.
type SelfTestResult struct {
	Status  string           `json:"status"` // running, pass, fail
	Mode    string           `json:"mode"`   // reference or base
	Adapter *SelfTestAdapter `json:"adapter,omitempty"`
	Cases   []SelfTestCase   `json:"cases,omitempty"`
	Base    *SelfTestBase    `json:"base,omitempty"`
	// BindingLimit is the largest storage binding used (base mode), bytes:
	// the device's limit, or less with ?window=<MiB>.
	BindingLimit uint64  `json:"binding_limit,omitempty"`
	Error        string  `json:"error,omitempty"`
	Ms           float64 `json:"ms"`
}

// SelfTest is the /selftest page.
type SelfTest struct {
	app.Compo
	res     SelfTestResult
	running string // what runs now
}

// OnInit sets the initial state (also on the server's prerender).
func (s *SelfTest) OnInit() {
	s.res = SelfTestResult{Status: "running", Mode: "reference"}
	s.running = "starting"
}

// OnMount starts the checks in a goroutine: the WebGPU backend awaits
// promises, which must not happen on a JavaScript callback.
func (s *SelfTest) OnMount(ctx app.Context) {
	if app.IsServer || !firstPage(ctx) {
		return
	}
	q := ctx.Page().URL().Query()
	base := q.Get("base") == "1"
	if base {
		s.res.Mode = "base"
	}
	ctx.Async(func() {
		start := time.Now()
		update := func(fn func(r *SelfTestResult)) {
			ctx.Dispatch(func(app.Context) { fn(&s.res) })
		}
		status := func(what string) { ctx.Dispatch(func(app.Context) { s.running = what }) }
		var err error
		if base {
			reps, _ := strconv.Atoi(q.Get("reps"))
			window, _ := strconv.Atoi(q.Get("window"))
			err = runSelfTestBase(reps, uint64(window)<<20, update, status)
		} else {
			err = runSelfTestReferences(ctx.Page().URL(), q.Get("backends"), update, status)
		}
		ctx.Dispatch(func(app.Context) {
			r := &s.res
			r.Ms = float64(time.Since(start).Microseconds()) / 1000
			r.Status = "pass"
			if err != nil {
				r.Error = err.Error()
				r.Status = "fail"
			}
			for _, c := range r.Cases {
				if !c.OK {
					r.Status = "fail"
				}
			}
			if !base && len(r.Cases) == 0 && r.Error == "" {
				r.Status, r.Error = "fail", "no case ran"
			}
			s.running = ""
			js, _ := json.Marshal(r)
			app.Log("webmae selftest: " + string(js))
		})
	})
}

func adapterOf(info gpu.Info) *SelfTestAdapter {
	return &SelfTestAdapter{
		Name: info.Adapter, Vendor: info.Vendor, Description: info.Description, Type: info.AdapterType,
		Features:                    info.Features,
		MaxStorageBufferBindingSize: info.Limits.MaxStorageBufferBindingSize,
		MaxBufferSize:               info.Limits.MaxBufferSize,
		MaxWorkgroupStorageSize:     info.Limits.MaxComputeWorkgroupStorageSize,
	}
}

// fetchSite gets a file of the site (the page's origin) as bytes, with the
// browser's fetch (fetchBytes: net/http's client would link its TLS stack
// into app.wasm).
func fetchSite(page *url.URL, path string) ([]byte, error) {
	u := page.ResolveReference(&url.URL{Path: path})
	b, found, err := fetchBytes(u.String(), nil)
	if err == nil && !found {
		err = fmt.Errorf("fetch %s: not found", path)
	}
	return b, err
}

// fetchReferences downloads the four reference cases of the official
// family and those of the tutorial's with get (a file of
// SelfTestReferenceURL by name).
func fetchReferences(get func(name string) ([]byte, error)) ([]harness.ReferenceFiles, error) {
	var out []harness.ReferenceFiles
	for _, n := range selfTestReferences {
		cfg, err := get(n + ".config.json")
		if err != nil {
			return nil, err
		}
		io, err := get(n + ".io.safetensors")
		if err != nil {
			return nil, err
		}
		for _, w := range []string{n + ".safetensors", n + ".timm.safetensors"} {
			wt, err := get(w)
			if err != nil {
				return nil, err
			}
			out = append(out, harness.ReferenceFiles{Name: w, Config: cfg, Weights: wt, IO: io})
		}
	}
	tut, err := fetchTutorialReferences(get)
	return append(out, tut...), err
}

// runSelfTestReferences checks the reference cases on the backends listed
// in backends ("webgpu,webgpu-plain,cpu" when empty).
func runSelfTestReferences(page *url.URL, backends string, update func(func(*SelfTestResult)), status func(string)) error {
	if backends == "" {
		backends = "webgpu,webgpu-plain,cpu"
	}
	status("fetching the reference files")
	var fetched []string
	refs, err := fetchReferences(func(name string) ([]byte, error) {
		fetched = append(fetched, SelfTestReferenceURL+name)
		return fetchSite(page, SelfTestReferenceURL+name)
	})
	if err != nil {
		return err
	}
	keepOffline("the self-test's reference files", fetched)
	for _, name := range strings.Split(backends, ",") {
		var k backend.Kernels
		switch name {
		case "webgpu", "webgpu-plain":
			// webgpu: subgroup reductions where the adapter has the
			// feature; webgpu-plain: the workgroup-memory reductions.
			status("opening the WebGPU device")
			g, err := openSelfTestGPU()
			if err == nil && name == "webgpu-plain" {
				err = g.UseSubgroups(false)
			}
			if err != nil {
				update(func(r *SelfTestResult) {
					r.Cases = append(r.Cases, SelfTestCase{Backend: name, Name: "device", Error: err.Error()})
				})
				continue
			}
			info := g.Info()
			update(func(r *SelfTestResult) { r.Adapter = adapterOf(info) })
			status("compiling the WebGPU pipelines")
			if err := g.Warm(); err != nil {
				g.Release()
				update(func(r *SelfTestResult) {
					r.Cases = append(r.Cases, SelfTestCase{Backend: name, Name: "pipelines", Error: err.Error()})
				})
				continue
			}
			k = g
		case "cpu":
			k = cpu.New()
		default:
			return fmt.Errorf("unknown backend %q (want webgpu, webgpu-plain or cpu)", name)
		}
		for _, f := range refs {
			status(fmt.Sprintf("%s on %s", f.Name, name))
			t0 := time.Now()
			rep, err := harness.CheckAny(k, f)
			c := SelfTestCase{Backend: name, Name: f.Name, Ms: float64(time.Since(t0).Microseconds()) / 1000,
				Lines: rep.Lines, Failures: rep.Failures, OK: err == nil && rep.OK()}
			if err != nil {
				c.Error = err.Error()
			}
			update(func(r *SelfTestResult) { r.Cases = append(r.Cases, c) })
		}
		k.Release()
	}
	return nil
}

// openSelfTestGPU opens the WebGPU backend with a time limit.
func openSelfTestGPU() (*gpu.Backend, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return gpu.New(ctx)
}

// The base probe: a randomly initialised `base` model (seed baseSeed)
// reconstructs a synthetic 224 px image with a fixed random masking.
// baseExpected holds the loss and mean |prediction| the native CPU backend
// computes for it (TestBaseProbeCPU checks them; rerun it with -v to
// update them after a change of the initialisation).
const baseSeed = 7

var baseExpected = struct {
	Loss     float32
	Checksum float64
}{Loss: 1.6593962, Checksum: 0.72398171}

// Tolerances of the base probe, GPU vs CPU: float32 sums over 768- and
// 3072-long rows through 20 blocks.
const (
	baseLossRelTol     = 1e-4
	baseChecksumRelTol = 1e-4
)

// baseImage is a smooth deterministic test picture in normalised pixel
// space (C, H, W): gradients and rings, so patches differ.
func baseImage(cfg model.Config) []float32 {
	c, s := cfg.NumChannels, cfg.ImageSize
	img := make([]float32, c*s*s)
	for ch := 0; ch < c; ch++ {
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				fx, fy := float64(x)/float64(s), float64(y)/float64(s)
				r := math.Hypot(fx-0.5, fy-0.4)
				v := 0.5 + 0.3*math.Sin(20*r+float64(ch)) + 0.2*(fx-fy)
				img[(ch*s+y)*s+x] = float32((v - 0.45) / 0.25)
			}
		}
	}
	return img
}

// baseProbe runs the base probe on k and reports the loss, the mean
// absolute prediction and the reconstruction metrics.
func baseProbe(k backend.Kernels, reps int, timed func(what string)) (SelfTestBase, error) {
	var out SelfTestBase
	cfg, err := model.Preset(model.PresetBase)
	if err != nil {
		return out, err
	}
	t0 := time.Now()
	m, err := mae.NewInit(k, cfg, baseSeed)
	if err != nil {
		return out, fmt.Errorf("base model: %w", err)
	}
	out.Params = m.Layout.Total
	l, keep := cfg.NumPatches(), cfg.NumKeep(cfg.MaskRatio)
	mk, err := recon.RandomMask(l, keep, baseSeed)
	if err != nil {
		return out, err
	}
	p, err := m.NewPass(1, keep)
	if err != nil {
		return out, err
	}
	img := baseImage(cfg)
	if err := p.SetInputs(img, mk); err != nil {
		return out, err
	}
	if err := k.Submit(); err != nil {
		return out, fmt.Errorf("base model upload: %w", err)
	}
	out.InitMs = float64(time.Since(t0).Microseconds()) / 1000
	timed("first forward pass")
	var pred []float32
	for i := 0; i < max(reps, 1); i++ {
		t1 := time.Now()
		p.Forward()
		if out.Loss, err = p.Loss(); err != nil {
			return out, fmt.Errorf("base forward: %w", err)
		}
		if pred, err = p.Prediction(); err != nil {
			return out, fmt.Errorf("base forward: %w", err)
		}
		ms := float64(time.Since(t1).Microseconds()) / 1000
		if i == 0 {
			out.ForwardMs = ms
			timed("second forward pass")
		} else {
			out.SecondMs = ms
		}
	}
	sum := 0.0
	for _, v := range pred {
		sum += math.Abs(float64(v))
	}
	out.Checksum = sum / float64(len(pred))
	res, err := recon.FromPrediction(cfg, recon.ImageNet(), img, recon.Masked(mk, 0), pred)
	if err != nil {
		return out, fmt.Errorf("base reconstruction: %w", err)
	}
	out.MSE, out.PSNR = res.MSE, res.PSNR
	out.ExpectedLoss, out.Expected = baseExpected.Loss, baseExpected.Checksum
	return out, nil
}

// checkBase compares a probe with baseExpected.
func checkBase(b SelfTestBase) error {
	rel := func(a, e float64) float64 { return math.Abs(a-e) / math.Abs(e) }
	if r := rel(float64(b.Loss), float64(baseExpected.Loss)); !(r < baseLossRelTol) {
		return fmt.Errorf("base: loss %.8g, native CPU backend %.8g: relative error %.3g >= %g", b.Loss, baseExpected.Loss, r, baseLossRelTol)
	}
	if r := rel(b.Checksum, baseExpected.Checksum); !(r < baseChecksumRelTol) {
		return fmt.Errorf("base: mean |prediction| %.8g, native CPU backend %.8g: relative error %.3g >= %g", b.Checksum, baseExpected.Checksum, r, baseChecksumRelTol)
	}
	if math.IsNaN(b.MSE) || math.IsInf(b.MSE, 0) {
		return fmt.Errorf("base: reconstruction MSE %v", b.MSE)
	}
	return nil
}

// runSelfTestBase runs the base probe on the WebGPU backend.
func runSelfTestBase(reps int, window uint64, update func(func(*SelfTestResult)), status func(string)) error {
	status("opening the WebGPU device")
	g, err := openSelfTestGPU()
	if err != nil {
		return err
	}
	defer g.Release()
	if window > 0 {
		g.LimitBindings(window)
	}
	info, bound := g.Info(), g.BindingLimit()
	update(func(r *SelfTestResult) { r.Adapter = adapterOf(info); r.BindingLimit = bound })
	status("initialising and uploading the base model (448 MB)")
	b, err := baseProbe(g, reps, status)
	if err != nil {
		return err
	}
	update(func(r *SelfTestResult) { r.Base = &b })
	return checkBase(b)
}
