package tutorial

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/gradcheck"
	"webmae/engine/model"
)

// smallConfigs are models small enough for finite differences (8x8 images,
// patch 4: L = 4): one with inner width != dim and enc_to_dec a Linear,
// one with heads == 1, dim_head == dim (to_out the identity) and dim ==
// decoder_dim (enc_to_dec the identity).
func smallConfigs() []Config {
	return []Config{
		{Architecture: Architecture, ImageSize: 8, PatchSize: 4, Channels: 3, NumClasses: 2, Dim: 8, Depth: 2, Heads: 2, DimHead: 6,
			MlpDimRatio: 2, Pool: "cls", DecoderDim: 6, DecoderDepth: 1, DecoderHeads: 3, DecoderDimHead: 4, MaskingRatio: 0.5},
		{Architecture: Architecture, ImageSize: 8, PatchSize: 4, Channels: 2, NumClasses: 3, Dim: 8, Depth: 1, Heads: 1, DimHead: 8,
			MlpDimRatio: 3, Pool: "cls", DecoderDim: 8, DecoderDepth: 2, DecoderHeads: 1, DecoderDimHead: 8, MaskingRatio: 0.75},
	}
}

// TestFiniteDifferences checks the analytic gradient of every trainable
// tensor against central finite differences (gradcheck: its tolerance and
// why); the tensors the MAE does not use must get no gradient.
func TestFiniteDifferences(t *testing.T) {
	for ci, cfg := range smallConfigs() {
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		m, err := New(cpu.New(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		params := make([]float32, m.Layout.Total)
		Init(m.Layout, params, 7)
		rng := rand.New(rand.NewPCG(1, uint64(ci)))
		gradcheck.Perturb(params, m.Layout.Tensors, rng)
		const b = 2
		l, nm := cfg.NumPatches(), cfg.NumMasked(cfg.MaskingRatio)
		p, err := m.NewPass(b, l-nm)
		if err != nil {
			t.Fatal(err)
		}
		images := make([]float32, b*cfg.Channels*cfg.ImageSize*cfg.ImageSize)
		for i := range images {
			images[i] = float32(rng.NormFloat64())
		}
		mk, err := MaskFromNoise(model.RandomNoise(rng, b, l), b, l, nm)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetInputs(images, mk); err != nil {
			t.Fatal(err)
		}
		results, err := gradcheck.Check(m, p, params, m.Layout.Tensors, rng)
		if err != nil {
			t.Fatalf("config %d: %v", ci, err)
		}
		for _, r := range results {
			if err := r.Err(); err != nil {
				t.Errorf("config %d %v", ci, err)
			} else {
				t.Logf("config %d %s: finite difference %.6g, analytic %.6g (diff %.3g)", ci, r.Name, r.Numeric, r.Analytic, math.Abs(r.Numeric-r.Analytic))
			}
		}
	}
}

// TestMaskFromNoise: the first int(ratio*L) of the argsort are masked, the
// rest kept in argsort order.
func TestMaskFromNoise(t *testing.T) {
	noise := []float32{0.5, 0.1, 0.9, 0.3, 0.7}
	mk, err := MaskFromNoise(noise, 1, 5, 3) // argsort: 1 3 0 4 2
	if err != nil {
		t.Fatal(err)
	}
	if got := mk.Keep; len(got) != 2 || got[0] != 4 || got[1] != 2 {
		t.Fatalf("keep %v, want [4 2]", got)
	}
	wantMask := []float32{1, 1, 0, 1, 0}
	wantRestore := []int32{4, 2, 1, 3, 0}
	for i := range wantMask {
		if mk.Mask[i] != wantMask[i] || mk.Restore[i] != wantRestore[i] {
			t.Fatalf("mask %v restore %v, want %v %v", mk.Mask, mk.Restore, wantMask, wantRestore)
		}
	}
	if _, err := MaskFromNoise(noise, 1, 5, 5); err == nil {
		t.Fatal("masking every patch accepted")
	}
}
