package tutorial

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/cpu"
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
// tensor against central differences of the loss along a random unit
// direction restricted to that tensor, with engine/mae's tolerance and
// reasoning (h = 1e-2: truncation ~1e-5, float32 loss rounding ~1e-5;
// allowed 2e-4 absolute + 0.2% relative, far below a real gradient bug).
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
		for _, ten := range m.Layout.Trainable() { // away from LayerNorm's identity and zero biases
			for i := ten.Off; i < ten.Off+ten.Len; i++ {
				params[i] += float32(rng.NormFloat64() * 0.3)
			}
		}
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
		for _, ten := range m.Layout.Tensors {
			if ten.Group == model.GroupFrozen {
				for i := ten.Off; i < ten.Off+ten.Len; i++ {
					if grads[i] != 0 {
						t.Fatalf("config %d: unused %s has a gradient", ci, ten.Name)
					}
				}
				continue
			}
			const h = 1e-2
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
				t.Errorf("config %d %s: finite difference %.6g, analytic %.6g (diff %.3g)", ci, ten.Name, numeric, analytic, diff)
			} else {
				t.Logf("config %d %s: finite difference %.6g, analytic %.6g (diff %.2g)", ci, ten.Name, numeric, analytic, diff)
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
