package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// TestAttentionMapsMatchCPU compares the attention probabilities that the
// explorer reads (mae.Pass.AttentionProbs, EncoderPass) on WebGPU with the
// CPU backend's, for the shipped `tiny` model (trained weights, so the
// maps are far from uniform) on a random image: a 0.75-masked
// reconstruction (encoder 17 tokens, decoder 65) and the unmasked encoder
// (65 tokens). With rows = 32 the sequences of 65 tokens (the decoder and
// the unmasked encoder) take the chunked online-softmax path (3 chunks),
// as sequences over 1024 tokens do at full size; with 0 every sequence
// takes the one-pass path.
//
// Tolerance 1e-5 absolute on probabilities (1e-5 relative to the largest
// value on the encoder output): both backends agree per kernel within a
// few float32 roundings (kernels_test.go) and the differences compound
// through up to 8 blocks before a probability is formed. Seen on
// lavapipe: at most 1.2e-6 (decoder layer 1), 3.3e-6 of 8.2 on the
// encoder output.
func TestAttentionMapsMatchCPU(t *testing.T) {
	g := gpuBackend(t)
	dir := filepath.Join("..", "..", "public", "models")
	cfg, params, _, err := model.LoadModel(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	img := make([]float32, cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	l := cfg.NumPatches()
	keep := l / 4
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, 1, l), 1, l, keep)
	if err != nil {
		t.Fatal(err)
	}
	// probs runs both paths on k and returns every layer's probabilities.
	probs := func(k backend.Kernels) map[string][]float32 {
		m, err := mae.New(k, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetParams(params); err != nil {
			t.Fatal(err)
		}
		p, err := m.NewPass(1, keep)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetInputs(img, mk); err != nil {
			t.Fatal(err)
		}
		p.Forward()
		out := map[string][]float32{}
		for _, s := range []mae.Stack{mae.Encoder, mae.Decoder} {
			for i := 0; i < p.Layers(s); i++ {
				if out[fmt.Sprint(s, i)], err = p.AttentionProbs(s, i); err != nil {
					t.Fatal(err)
				}
			}
		}
		e, err := m.NewEncoderPass(1)
		if err != nil {
			t.Fatal(err)
		}
		if out["encoder output (all patches)"], err = e.Run(img); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < p.Layers(mae.Encoder); i++ {
			if out[fmt.Sprint("all-patch encoder ", i)], err = e.AttentionProbs(i); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	want := probs(cpu.New())
	for _, rows := range []int{0, 32} {
		t.Run(fmt.Sprint("rows", rows), func(t *testing.T) {
			if rows > 0 {
				defer func(r int) { g.attentionRows = r }(g.attentionRows)
				g.attentionRows = rows
			}
			got := probs(g)
			names := make([]string, 0, len(want))
			for name := range want {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				w, gv := want[name], got[name]
				if len(gv) != len(w) {
					t.Fatalf("%s: %d values, cpu %d", name, len(gv), len(w))
				}
				worst, scale := 0.0, 0.0
				for i := range w {
					worst = math.Max(worst, math.Abs(float64(gv[i])-float64(w[i])))
					scale = math.Max(scale, math.Abs(float64(w[i])))
				}
				tol := 1e-5
				if name == "encoder output (all patches)" {
					tol = 1e-5 * scale // unbounded activations: relative to the largest
				}
				t.Logf("%s: max abs diff %.3g (largest value %.3g)", name, worst, scale)
				if worst > tol {
					t.Errorf("%s: max abs diff %.3g > %.3g", name, worst, tol)
				}
			}
		})
	}
}
