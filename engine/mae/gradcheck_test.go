package mae

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/gradcheck"
	"webmae/engine/model"
)

// smallConfig is a model small enough for finite differences: 8x8 images,
// patch 4 (L = 4), 8 wide encoder and decoder with 2 heads.
func smallConfig(normPix bool) model.Config {
	return model.Config{
		ImageSize: 8, PatchSize: 4, NumChannels: 3,
		HiddenSize: 8, NumHiddenLayers: 2, NumAttentionHeads: 2, IntermediateSize: 16,
		DecoderHiddenSize: 8, DecoderNumHiddenLayers: 1, DecoderNumAttentionHeads: 2, DecoderIntermediateSize: 12,
		MaskRatio: 0.5, NormPixLoss: normPix, LayerNormEps: 1e-6, QKVBias: true, HiddenAct: "gelu",
	}
}

// TestFiniteDifferences checks the analytic gradient of every trainable
// tensor against central finite differences (gradcheck: its tolerance and
// why), with and without the normalised-pixel loss; the frozen position
// embeddings must get no gradient.
func TestFiniteDifferences(t *testing.T) {
	for _, normPix := range []bool{false, true} {
		cfg := smallConfig(normPix)
		m, err := NewInit(cpu.New(), cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		params, err := m.ReadParams()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		gradcheck.Perturb(params, m.Layout.Tensors, rng)
		const b = 2
		l := cfg.NumPatches()
		keep := cfg.NumKeep(cfg.MaskRatio)
		p, err := m.NewPass(b, keep)
		if err != nil {
			t.Fatal(err)
		}
		images := make([]float32, b*3*8*8)
		for i := range images {
			images[i] = float32(rng.NormFloat64())
		}
		mk, err := model.MaskFromNoise(model.RandomNoise(rng, b, l), b, l, keep)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetInputs(images, mk); err != nil {
			t.Fatal(err)
		}
		results, err := gradcheck.Check(m, p, params, m.Layout.Tensors, rng)
		if err != nil {
			t.Fatalf("normPix=%v: %v", normPix, err)
		}
		for _, r := range results {
			if err := r.Err(); err != nil {
				t.Errorf("normPix=%v %v", normPix, err)
			} else {
				t.Logf("normPix=%v %s: finite difference %.6g, analytic %.6g (diff %.3g)", normPix, r.Name, r.Numeric, r.Analytic, math.Abs(r.Numeric-r.Analytic))
			}
		}
	}
}
