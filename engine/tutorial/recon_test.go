package tutorial

import (
	"math"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// TestReconstructor: the masked-patch MSE of a reconstruction (normalised
// pixels) is the model's loss on that image and masking (the tutorial's
// loss is exactly that MSE), within float32 summation differences.
func TestReconstructor(t *testing.T) {
	cfg, lay, tensors := loadShared(t)
	params, err := LoadWeights(tensors, lay)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cpu.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetParams(params); err != nil {
		t.Fatal(err)
	}
	io, _, err := model.LoadSafetensorsFile("../../testdata/tutorial/tutorial_mae.io.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	per, l := cfg.Channels*cfg.ImageSize*cfg.ImageSize, cfg.NumPatches()
	image := io["pixel_values"].F32[:per]
	mk, err := MaskFromNoise(io["noise"].F32[:l], 1, l, cfg.NumMasked(cfg.MaskingRatio))
	if err != nil {
		t.Fatal(err)
	}
	norm, err := recon.DefaultNorm(cfg.Channels)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewReconstructor(m, norm)
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Reconstruct(image, mk)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.NewPass(1, mk.K)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetInputs(image, mk); err != nil {
		t.Fatal(err)
	}
	p.Forward()
	loss, err := p.Loss()
	if err != nil {
		t.Fatal(err)
	}
	mse := res.SSE / float64(res.NumValues)
	if math.Abs(mse-float64(loss)) > 1e-5*float64(loss) || res.NumMasked() != cfg.NumMasked(cfg.MaskingRatio) {
		t.Fatalf("reconstruction MSE %.7g over %d masked patches, loss %.7g", mse, res.NumMasked(), loss)
	}
	// The page's random mask follows the tutorial's rule.
	rm, err := cfg.RandomMask(0.75, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rm.K != l-cfg.NumMasked(0.75) {
		t.Fatalf("random mask keeps %d of %d", rm.K, l)
	}
}
