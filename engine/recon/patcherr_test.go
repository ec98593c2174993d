package recon

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/model"
)

// TestPatchMSE checks the per-patch errors of a composed result against
// errors placed by hand (one constant offset per masked patch), and that
// the masked patches average to the result's MSE.
func TestPatchMSE(t *testing.T) {
	cfg := model.Config{ImageSize: 12, PatchSize: 4, NumChannels: 3}
	rng := rand.New(rand.NewPCG(3, 5))
	img := make([]float32, 3*12*12)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	masked := []bool{true, false, true, false, false, true, true, false, false}
	offset := []float32{0.5, 9, 1, 9, 9, 2, 0.25, 9, 9} // visible ones must not count
	rec := make([]float32, len(img))
	for ch := 0; ch < 3; ch++ {
		for y := 0; y < 12; y++ {
			for x := 0; x < 12; x++ {
				i := (ch*12+y)*12 + x
				rec[i] = img[i] + offset[(y/4)*3+x/4]
			}
		}
	}
	r, err := Compose(cfg, ImageNet(), img, masked, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PatchMSE(r)
	if err != nil {
		t.Fatal(err)
	}
	sum, n := 0.0, 0
	for i, m := range masked {
		if !m {
			if !math.IsNaN(got[i]) {
				t.Errorf("visible patch %d: %g, want NaN", i, got[i])
			}
			continue
		}
		want := float64(offset[i]) * float64(offset[i])
		if math.Abs(got[i]-want) > 1e-6*want {
			t.Errorf("patch %d: %g, want %g", i, got[i], want)
		}
		sum += got[i]
		n++
	}
	if mean := sum / float64(n); math.Abs(mean-r.MSE) > 1e-9 {
		t.Errorf("mean of the masked patches %g, result MSE %g", mean, r.MSE)
	}
	if _, err := PatchMSE(Result{C: 3, H: 12, W: 12, P: 5}); err == nil {
		t.Error("a 12-px image with 5-px patches was accepted")
	}
	if _, err := PatchMSE(Result{C: 3, H: 12, W: 12, P: 4, Original: img}); err == nil {
		t.Error("a result without its reconstruction was accepted")
	}
}

// TestInverseDistanceYield checks that the yielding form gives the same
// image as InverseDistance, calls yield, and stops with yield's error.
func TestInverseDistanceYield(t *testing.T) {
	cfg := model.Config{ImageSize: 32, PatchSize: 8, NumChannels: 3}
	rng := rand.New(rand.NewPCG(9, 1))
	img := make([]float32, 3*32*32)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	masked := make([]bool, cfg.NumPatches())
	for i := range masked {
		masked[i] = i%3 != 0
	}
	want, err := InverseDistance(cfg, img, masked, IDWPower)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	got, err := InverseDistanceYield(cfg, img, masked, IDWPower, func() error { calls++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d: %g with yield, %g without", i, got[i], want[i])
		}
	}
	if calls == 0 {
		t.Error("yield was never called")
	}
	stop := errors.New("stopped")
	if _, err := InverseDistanceYield(cfg, img, masked, IDWPower, func() error { return stop }); !errors.Is(err, stop) {
		t.Errorf("yield's error: got %v, want it wrapped", err)
	}
}
