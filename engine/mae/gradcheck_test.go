package mae

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/cpu"
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
// tensor against central differences of the loss along a random unit
// direction restricted to that tensor: (L(p+hu) - L(p-hu)) / 2h vs g.u.
//
// Tolerance: with h = 1e-2 the truncation error is O(h^2 |L”'|) ~ 1e-5
// here, and float32 rounding of the loss (~1e-7 relative, loss ~1)
// contributes ~1e-7/h = 1e-5 (observed differences: at most 9e-5); we
// allow 2e-4 absolute + 0.2% relative, far
// below the size of any real gradient bug (a wrong sign, factor or missing
// term changes g.u by O(|g.u|)).
func TestFiniteDifferences(t *testing.T) {
	for _, normPix := range []bool{false, true} {
		cfg := smallConfig(normPix)
		k := cpu.New()
		m, err := NewInit(k, cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		// Non-trivial biases, LayerNorm affine and tokens, so that their
		// gradients are exercised away from the init point.
		params, _ := m.ReadParams()
		rng := rand.New(rand.NewPCG(1, 2))
		for _, ten := range m.Layout.Trainable() {
			for i := ten.Off; i < ten.Off+ten.Len; i++ {
				params[i] += float32(rng.NormFloat64() * 0.3)
			}
		}
		if err := m.SetParams(params); err != nil {
			t.Fatal(err)
		}
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
		lossAt := func(ps []float32) float64 {
			if err := m.SetParams(ps); err != nil {
				t.Fatal(err)
			}
			p.Forward()
			v, err := p.Loss()
			if err != nil {
				t.Fatal(err)
			}
			return float64(v)
		}
		lossAt(params)
		p.Backward()
		grads, _ := m.ReadGrads()

		const h = 1e-2
		for _, ten := range m.Layout.Trainable() {
			u := make([]float64, ten.Len)
			var norm float64
			for i := range u {
				u[i] = rng.NormFloat64()
				norm += u[i] * u[i]
			}
			norm = math.Sqrt(norm)
			var analytic float64
			plus := append([]float32(nil), params...)
			minus := append([]float32(nil), params...)
			for i := range u {
				u[i] /= norm
				analytic += float64(grads[ten.Off+i]) * u[i]
				plus[ten.Off+i] += float32(h * u[i])
				minus[ten.Off+i] -= float32(h * u[i])
			}
			numeric := (lossAt(plus) - lossAt(minus)) / (2 * h)
			if diff := math.Abs(numeric - analytic); diff > 2e-4+2e-3*math.Abs(numeric) {
				t.Errorf("normPix=%v %s: finite difference %.6g, analytic %.6g (diff %.3g)", normPix, ten.Name, numeric, analytic, diff)
			}
		}
	}
}
