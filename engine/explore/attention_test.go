package explore

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/gpu"
	"webmae/engine/harness"
	"webmae/engine/mae"
	"webmae/engine/model"
)

var shared struct {
	once sync.Once
	b    *gpu.Backend
	err  error
}

// gpuKernels returns one WebGPU backend for the package's tests, or skips
// when no adapter exists (CI installs lavapipe).
func gpuKernels(t *testing.T) backend.Kernels {
	t.Helper()
	shared.once.Do(func() { shared.b, shared.err = gpu.New(context.Background()) })
	if shared.err != nil {
		t.Skipf("no WebGPU adapter available (install mesa-vulkan-drivers for lavapipe): %v", shared.err)
	}
	return shared.b
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.b != nil {
		shared.b.Release()
	}
	os.Exit(code)
}

type reference struct {
	cfg    model.Config
	params []float32
	in     harness.Inputs
	attn   map[string]model.HostTensor
}

func loadReference(t *testing.T) reference {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "reference")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cfg, err := model.ParseConfig(read("mae_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	wt, _, err := model.ReadSafetensors(read("mae_tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	params, _, err := model.LoadWeights(wt, cfg, model.NewLayout(cfg))
	if err != nil {
		t.Fatal(err)
	}
	io, _, err := model.ReadSafetensors(read("mae_tiny.io.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := harness.InputsFromTensors(io, cfg)
	if err != nil {
		t.Fatal(err)
	}
	attn, _, err := model.ReadSafetensors(read("mae_tiny.attention.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return reference{cfg: cfg, params: params, in: in, attn: attn}
}

// forwardReference runs the reference batch on k and returns the pass and
// its masking.
func forwardReference(t *testing.T, k backend.Kernels, ref reference) (*mae.Pass, model.Masking) {
	t.Helper()
	m, err := mae.New(k, ref.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetParams(ref.params); err != nil {
		t.Fatal(err)
	}
	l := ref.cfg.NumPatches()
	keep := int(float64(l) * (1 - ref.cfg.MaskRatio))
	mk, err := model.MaskFromNoise(ref.in.Noise, ref.in.B, l, keep)
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.NewPass(ref.in.B, keep)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetInputs(ref.in.Pixels, mk); err != nil {
		t.Fatal(err)
	}
	p.Forward()
	return p, mk
}

// The probabilities every block's Attention kernel writes during the
// reconstruction match Hugging Face's output_attentions, computed in
// float64 by testdata/make_attention_ref.py, on both backends.
//
// Tolerance 2e-6 absolute. The engine's float32 forward reproduces the
// reference logits within 8.6e-7 (CPU) and 1.7e-6 (lavapipe) of values of
// order 1 (README's correctness table); a probability p = softmax(s)_j
// moves by at most p * 2 max|ds|, and the scores s = q.k / sqrt(hd) carry
// the same order of relative float32 error (a few 1e-7 over sums of 16-32
// products of order-1 values), so 2e-6 is a few times the expected error
// and about 1e-3 of the spread of the probabilities (1/T to 1).
func TestAttentionMatchesPyTorch(t *testing.T) {
	ref := loadReference(t)
	for _, be := range []struct {
		name string
		k    func(*testing.T) backend.Kernels
	}{{"cpu", func(*testing.T) backend.Kernels { return cpu.New() }}, {"webgpu", gpuKernels}} {
		t.Run(be.name, func(t *testing.T) {
			p, _ := forwardReference(t, be.k(t), ref)
			for _, s := range []mae.Stack{mae.Encoder, mae.Decoder} {
				for layer := 0; layer < p.Layers(s); layer++ {
					name := fmt.Sprintf("%s.%d", map[mae.Stack]string{mae.Encoder: "enc", mae.Decoder: "dec"}[s], layer)
					want, ok := ref.attn[name]
					if !ok {
						t.Fatalf("reference has no %s", name)
					}
					got, err := p.AttentionProbs(s, layer)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want.F32) {
						t.Fatalf("%s: %d values, reference %v", name, len(got), want.Shape)
					}
					worst := 0.0
					for i := range got {
						worst = math.Max(worst, math.Abs(float64(got[i])-float64(want.F32[i])))
					}
					t.Logf("%s %v: max abs diff %.3g", name, want.Shape, worst)
					if worst > 2e-6 {
						t.Errorf("%s: max abs diff %.3g > 2e-6", name, worst)
					}
				}
			}
		})
	}
}

// Map lays the probabilities on the patch grid with the token order of
// each stack; rollout rows are distributions.
func TestAttentionMap(t *testing.T) {
	ref := loadReference(t)
	p, mk := forwardReference(t, cpu.New(), ref)
	const b = 1
	a, err := FromPass(p, mk, b)
	if err != nil {
		t.Fatal(err)
	}
	l := mk.L
	dec := ref.attn["dec.0"].F32
	enc := ref.attn["enc.1"].F32
	dh, dt := a.Dec.Heads, a.Dec.T
	eh, et := a.Enc.Heads, a.Enc.T
	for q := 0; q < l; q++ {
		pm, err := a.Map(View{Stack: mae.Decoder, Layer: 0, Head: 1}, q)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < l; j++ {
			// Decoder token 1+j is patch j in the PyTorch sequence too
			// (after ids_restore).
			want := float64(dec[((b*dh+1)*dt+1+q)*dt+1+j])
			if math.Abs(pm.Weights[j]-want) > 2e-6 {
				t.Fatalf("decoder query %d key patch %d: %g, reference %g", q, j, pm.Weights[j], want)
			}
		}
	}
	for pos, q := range a.Keep {
		pm, err := a.Map(View{Stack: mae.Encoder, Layer: 1, Head: AllHeads}, int(q))
		if err != nil {
			t.Fatal(err)
		}
		for j, kp := range a.Keep {
			want := 0.0
			for h := 0; h < eh; h++ {
				want += float64(enc[((b*eh+h)*et+1+pos)*et+1+j]) / float64(eh)
			}
			if math.Abs(pm.Weights[kp]-want) > 2e-6 {
				t.Fatalf("encoder query %d key patch %d: %g, reference %g", q, kp, pm.Weights[kp], want)
			}
		}
		for j, m := range a.Masked {
			if m != math.IsNaN(pm.Weights[j]) {
				t.Fatalf("encoder map of patch %d: weight %g on patch %d (removed %v)", q, pm.Weights[j], j, m)
			}
		}
	}
	for j, m := range a.Masked {
		if m {
			if _, err := a.Map(View{Stack: mae.Encoder}, j); err == nil {
				t.Fatalf("encoder map of removed patch %d: no error", j)
			}
			break
		}
	}
	for _, st := range []Layers{a.Enc, a.Dec} {
		r, err := st.Rollout(len(st.Probs) - 1)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < st.T; i++ {
			sum := 0.0
			for j := 0; j < st.T; j++ {
				sum += r[i*st.T+j]
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Fatalf("rollout row %d sums to %g", i, sum)
			}
		}
	}
	// One layer's rollout is (A + I) / 2 for row-stochastic A.
	r, _ := a.Dec.Rollout(0)
	m, _ := a.Dec.Matrix(0, AllHeads)
	for i := 0; i < dt; i++ {
		for j := 0; j < dt; j++ {
			want := m[i*dt+j] / 2
			if i == j {
				want += 0.5
			}
			if math.Abs(r[i*dt+j]-want) > 1e-6 {
				t.Fatalf("one-layer rollout [%d,%d] = %g, want %g", i, j, r[i*dt+j], want)
			}
		}
	}
	if _, err := a.Map(View{Stack: mae.Decoder, Layer: 5}, 0); err == nil {
		t.Fatal("layer 5 of 1: no error")
	}
	if _, err := a.Map(View{Stack: mae.Decoder, Head: 2}, 0); err == nil {
		t.Fatal("head 2 of 2: no error")
	}
	if _, err := a.Map(View{Stack: mae.Decoder}, l); err == nil {
		t.Fatalf("query %d of %d: no error", l, l)
	}
}
