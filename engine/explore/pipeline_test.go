package explore

import (
	"math"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/recon"
)

// The stages are the pass's own tensors: patches = Patchify, ids_shuffle
// = argsort(noise), kept patches in that order, encoder and decoder tokens
// built from the model's parameters (CLS + position 0, mask token +
// decoder position at removed patches), and the per-patch loss averages
// to the model's loss over the removed patches.
func TestPipeline(t *testing.T) {
	r := microReconstructor(t, cpu.New())
	m := r.Model()
	cfg := m.Config
	img := testImage(cfg, 2)
	l := cfg.NumPatches()
	keep := NumKeep(l, 0.75)
	const seed = 13
	mk, err := recon.RandomMask(l, keep, seed)
	if err != nil {
		t.Fatal(err)
	}
	noise := recon.MaskNoise(l, seed)
	st, err := Pipeline(r, img, mk, noise)
	if err != nil {
		t.Fatal(err)
	}
	patches, _ := recon.Patchify(img, cfg.NumChannels, cfg.ImageSize, cfg.ImageSize, cfg.PatchSize)
	for i := range patches {
		if patches[i] != st.Patches[i] {
			t.Fatalf("patch value %d differs", i)
		}
	}
	for i := 1; i < l; i++ {
		if noise[st.Shuffle[i-1]] > noise[st.Shuffle[i]] {
			t.Fatalf("ids_shuffle not sorted by noise at %d", i)
		}
	}
	for j, k := range st.Keep {
		if st.Shuffle[j] != k || st.Masked[k] {
			t.Fatalf("kept patch %d: %d, shuffle %d, masked %v", j, k, st.Shuffle[j], st.Masked[k])
		}
		for i := 0; i < st.PD; i++ {
			if st.KeptPatches[j*st.PD+i] != patches[int(k)*st.PD+i] {
				t.Fatalf("kept patch %d value %d differs", j, i)
			}
		}
	}
	params, err := m.ReadParams()
	if err != nil {
		t.Fatal(err)
	}
	s := m.Layout.Spans
	cls, pos := params[s.Cls.Off:s.Cls.Off+s.Cls.Len], params[s.Pos.Off:s.Pos.Off+s.Pos.Len]
	if len(st.EncoderTokens) != (1+keep)*st.D || len(st.DecoderTokens) != (1+l)*st.Dd {
		t.Fatalf("token shapes %d, %d", len(st.EncoderTokens), len(st.DecoderTokens))
	}
	for j := 0; j < st.D; j++ {
		if st.EncoderTokens[j] != cls[j]+pos[j] {
			t.Fatalf("encoder CLS feature %d: %g, want %g", j, st.EncoderTokens[j], cls[j]+pos[j])
		}
	}
	mt, dpos := params[s.MaskToken.Off:s.MaskToken.Off+s.MaskToken.Len], params[s.DecPos.Off:s.DecPos.Off+s.DecPos.Len]
	for p, masked := range st.Masked {
		if !masked {
			continue
		}
		for j := 0; j < st.Dd; j++ {
			if got, want := st.DecoderTokens[(1+p)*st.Dd+j], mt[j]+dpos[(1+p)*st.Dd+j]; got != want {
				t.Fatalf("decoder token of removed patch %d feature %d: %g, want mask token + position %g", p, j, got, want)
			}
		}
	}
	sum, n := 0.0, 0
	for p, masked := range st.Masked {
		if masked {
			sum += st.PatchLoss[p]
			n++
		}
	}
	// The kernel sums in float32: 1e-5 relative.
	if got := sum / float64(n); math.Abs(got-float64(st.Loss)) > 1e-5*got {
		t.Fatalf("mean patch loss over removed patches %g, model loss %g", got, st.Loss)
	}
	if _, err := Pipeline(r, img, mk, noise[:3]); err == nil {
		t.Fatal("short noise: no error")
	}
}
