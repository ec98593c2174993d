package ui

import (
	"net/url"
	"strings"
	"testing"

	"webmae/engine/bench"
)

// The page's options: defaults, a tiny run, and one-sentence errors.
func TestParseBenchOptions(t *testing.T) {
	q, _ := url.ParseQuery("only=matmul,profile-recon&sizes=64&mintime=0&attnwg=16&mmdirect=0")
	o, err := parseBenchOptions(q)
	if err != nil {
		t.Fatal(err)
	}
	if o.preset != "micro" || o.minTime != 0 || len(o.sizes) != 1 || o.sizes[0] != 64 || !o.only["matmul"] || !o.only["profile-recon"] ||
		o.only["train"] || !o.tfjs || o.attnWG != 16 || o.mmDirect != 0 {
		t.Errorf("options %+v", o)
	}
	for query, want := range map[string]string{
		"sizes=0":      "sizes",
		"batch=x":      "batch",
		"only=nothing": `unknown measurement "nothing"`,
		"preset=huge":  "huge",
		"attnwg=2":     "attnwg",
		"mmdirect=2":   "mmdirect",
	} {
		q, _ := url.ParseQuery(query)
		if _, err := parseBenchOptions(q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", query, err, want)
		}
	}
}

// Every emitted measurement is a JSON line; results and ratios are rows of
// the summary with their units, the adapter and the notes are text.
func TestBenchSummary(t *testing.T) {
	b := &Bench{}
	emit := func(v any) { b.add(string(mustJSON(v)), v) }
	emit(benchAdapter{Name: "adapter", Backend: "webgpu", Adapter: &SelfTestAdapter{Name: "swiftshader"}, Preset: "micro", Batch: 8})
	ours := bench.Result{Backend: "webgpu", Name: "matmul", Shape: "512x512x512", Value: 12.345, Unit: "GFLOP/s", Reps: 7, Seconds: 1.5}
	theirs := ours
	theirs.Backend, theirs.Value = "tfjs", 6
	emit(ours)
	emit(theirs)
	rs := ratios([]bench.Result{ours}, []bench.Result{theirs})
	if len(rs) != 1 || rs[0].Met == nil || !*rs[0].Met {
		t.Fatalf("ratios %+v", rs)
	}
	emit(rs[0])
	emit(benchNote{Name: "tfjs", Note: tfjsAbsent})
	if len(b.lines) != 5 || !strings.HasPrefix(b.lines[1], `{"backend":"webgpu","name":"matmul"`) {
		t.Errorf("lines %q", b.lines)
	}
	if len(b.rows) != 3 {
		t.Fatalf("rows %+v", b.rows)
	}
	if r := b.rows[0]; r.Measure != "matmul 512x512x512" || r.Figure != "12.3 GFLOP/s" || r.Note != "7 repetitions in 1.50 s" {
		t.Errorf("result row %+v", r)
	}
	if r := b.rows[2]; r.Figure != "2.06x" || metText(r.Met) != "met" || !strings.Contains(r.Note, "target 1.5x met") {
		t.Errorf("ratio row %+v", r)
	}
	if !strings.HasPrefix(b.adapter, "webgpu · swiftshader") || len(b.notes) != 1 || !strings.Contains(b.notes[0], "measures webmae alone") {
		t.Errorf("adapter %q, notes %q", b.adapter, b.notes)
	}
}

func TestFormatFigure(t *testing.T) {
	for v, want := range map[float64]string{0.01234: "0.0123", 1.5: "1.5", 12.345: "12.3", 999.4: "999", 12345.6: "12346"} {
		if got := formatFigure(v); got != want {
			t.Errorf("formatFigure(%v) = %q, want %q", v, got, want)
		}
	}
}

// The self-test's verdict in words.
func TestSelfTestStatusText(t *testing.T) {
	cases := []SelfTestCase{{OK: true}, {OK: true}, {OK: false}}
	for _, tc := range []struct {
		r    SelfTestResult
		want string
	}{
		{SelfTestResult{Status: "running", Cases: cases[:2]}, "Running: 2 checks done, 2 passed"},
		{SelfTestResult{Status: "pass", Cases: cases[:2], Ms: 1500}, "Pass: all 2 checks agree with PyTorch (1.5 s)"},
		{SelfTestResult{Status: "fail", Cases: cases}, "Fail: 2 of 3 checks agree with PyTorch"},
		{SelfTestResult{Status: "fail", Mode: "base"}, "Fail: the base model's reconstruction does not match (see the error)"},
	} {
		if got := statusText(tc.r); got != tc.want {
			t.Errorf("statusText = %q, want %q", got, tc.want)
		}
	}
}
