package ui

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"webmae/engine/model"
	"webmae/engine/recon"
)

func TestPanelsFileName(t *testing.T) {
	for _, tc := range []struct {
		key, name  string
		ratio, mse float64
		want       string
	}{
		{"sample-chelsea", "Chelsea the cat", 0.75, 0.22251, "webmae-chelsea-ratio0.75-mse0.2225.png"},
		{"upload-3", "My Photo (1).JPG", 0.4844, 0.5, "webmae-my-photo-1-ratio0.484-mse0.5000.png"},
		{"upload-4", "...", 0.5, 1.23456, "webmae-image-ratio0.5-mse1.2346.png"},
		{"upload-5", "ünïcode été.png", 0.05, 0, "webmae-n-code-t-ratio0.05-mse0.0000.png"},
		{"upload-6", strings.Repeat("a", 90) + ".png", 0.9, 0.1, "webmae-" + strings.Repeat("a", 40) + "-ratio0.9-mse0.1000.png"},
	} {
		if got := panelsFileName(tc.key, tc.name, tc.ratio, tc.mse); got != tc.want {
			t.Errorf("panelsFileName(%q, %q, %g, %g) = %q, want %q", tc.key, tc.name, tc.ratio, tc.mse, got, tc.want)
		}
	}
}

func TestPatchKey(t *testing.T) {
	const g = 4
	for _, tc := range []struct {
		key           string
		from, next    int
		toggle, known bool
	}{
		{"ArrowRight", 0, 1, false, true},
		{"ArrowRight", 3, 3, false, true}, // the edge stops it
		{"ArrowLeft", 4, 4, false, true},
		{"ArrowDown", 1, 5, false, true},
		{"ArrowDown", 13, 13, false, true},
		{"ArrowUp", 5, 1, false, true},
		{"Home", 10, 0, false, true},
		{"End", 2, 15, false, true},
		{" ", 6, 6, true, true},
		{"Enter", 6, 6, true, true},
		{"a", 6, 6, false, false},
	} {
		next, toggle, known := patchKey(tc.key, tc.from, g)
		if next != tc.next || toggle != tc.toggle || known != tc.known {
			t.Errorf("patchKey(%q, %d) = %d, %v, %v; want %d, %v, %v", tc.key, tc.from, next, toggle, known, tc.next, tc.toggle, tc.known)
		}
	}
}

// TestComputeBaselines checks the page's baselines against the engine's
// own (recon.Baseline) on one image and mask, the per-patch errors
// against the MSE they average to, and that a yield error stops it.
func TestComputeBaselines(t *testing.T) {
	cfg := model.Config{ImageSize: 32, PatchSize: 8, NumChannels: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, 3*32*32)
	pred := make([]float32, len(img))
	for i := range img {
		img[i] = float32(rng.NormFloat64())
		pred[i] = img[i] + float32(0.5*rng.NormFloat64())
	}
	masked := make([]bool, cfg.NumPatches())
	for i := range masked {
		masked[i] = i%4 != 1
	}
	n := recon.ImageNet()
	res, err := recon.Compose(cfg, n, img, masked, pred)
	if err != nil {
		t.Fatal(err)
	}
	b, err := computeBaselines(res, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]float64{recon.BaselineMean: b.Mean, recon.BaselineIDW: b.IDW} {
		want, err := recon.Baseline(name, cfg, n, img, masked)
		if err != nil {
			t.Fatal(err)
		}
		if got != want.MSE {
			t.Errorf("%s: %g, engine %g", name, got, want.MSE)
		}
	}
	for _, pe := range []struct {
		name string
		errs []float64
		mse  float64
	}{{"model", b.ModelPatch, res.MSE}, {"idw", b.IDWPatch, b.IDW}} {
		sum, k := 0.0, 0
		for i, v := range pe.errs {
			if masked[i] != !math.IsNaN(v) {
				t.Fatalf("%s patch %d: %g for masked=%v", pe.name, i, v, masked[i])
			}
			if masked[i] {
				sum += v
				k++
			}
		}
		if math.Abs(sum/float64(k)-pe.mse) > 1e-9 {
			t.Errorf("%s: per-patch mean %g, MSE %g", pe.name, sum/float64(k), pe.mse)
		}
	}
	if _, err := computeBaselines(res, n, func() error { return errSuperseded }); !errors.Is(err, errSuperseded) {
		t.Errorf("a superseded computation returned %v", err)
	}
}

func TestBeatsInterpolation(t *testing.T) {
	nan := math.NaN()
	beats, n := beatsInterpolation([]float64{0.1, nan, 0.5, 0.3}, []float64{0.2, 0.0, 0.4, 0.3})
	if want := []bool{true, false, false, false}; n != 1 || !equalBools(beats, want) {
		t.Errorf("beats %v (%d), want %v (1): a tie or a visible patch is no win", beats, n, want)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrorMapRGBA(t *testing.T) {
	const s, g, p = 16, 2, 8
	base := make([]byte, 4*s*s)
	for i := range base {
		base[i] = 100
	}
	errs := []float64{math.NaN(), 0, 1, 2}
	out, err := errorMapRGBA(base, s, g, p, errs, 2, []bool{false, false, true, false})
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) [3]byte { i := 4 * (y*s + x); return [3]byte{out[i], out[i+1], out[i+2]} }
	if got, want := at(4, 4), [3]byte{170, 170, 170}; got != want { // 0.3*100 + 0.7*200
		t.Errorf("visible patch: %v, want dimmed %v", got, want)
	}
	if got, want := at(12, 4), heatColor(0); got != want {
		t.Errorf("error 0: %v, want %v", got, want)
	}
	if got, want := at(12, 12), heatColor(1); got != want {
		t.Errorf("error at the top of the scale: %v, want %v", got, want)
	}
	if got := at(0, 8); got != [3]byte{255, 255, 255} {
		t.Errorf("outlined patch's edge: %v, want white", got)
	}
	if got, want := at(4, 12), heatColor(0.5); got != want {
		t.Errorf("outlined patch's inside: %v, want %v", got, want)
	}
	if _, err := errorMapRGBA(base, s, g, p, errs[:3], 2, make([]bool, 4)); err == nil {
		t.Error("3 errors for 4 patches were accepted")
	}
	if hi := errorScaleMax([]float64{math.NaN(), 0.25, 0.5}); hi != 0.5 {
		t.Errorf("scale max %g, want 0.5", hi)
	}
	if hi := errorScaleMax([]float64{math.NaN()}); hi != 1 {
		t.Errorf("scale max without errors %g, want 1", hi)
	}
}

func TestUnitNoteAndBusyText(t *testing.T) {
	if s := unitNote(recon.ImageNet()); !strings.Contains(s, "ImageNet's mean colour everywhere") || !strings.Contains(s, "about 1.0") {
		t.Errorf("ImageNet note: %q", s)
	}
	if s := unitNote(recon.Gray(0.5, 0.25)); !strings.Contains(s, "mean 0.5") || !strings.Contains(s, "deviation 0.25") {
		t.Errorf("gray note: %q", s)
	}
	for _, tc := range []struct {
		p     compileProgress
		first bool
		want  string
	}{
		{compileProgress{3, 20}, true, "Compiling GPU kernels: 3 of 20"},
		{compileProgress{20, 20}, true, "Preparing the reconstruction…"},
		{compileProgress{}, false, "Reconstructing…"},
	} {
		if got := busyText(tc.p, tc.first); got != tc.want {
			t.Errorf("busyText(%v, %v) = %q, want %q", tc.p, tc.first, got, tc.want)
		}
	}
}
