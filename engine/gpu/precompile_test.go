package gpu

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"webmae/engine/mae"
	"webmae/engine/model"
)

// TestCompileCoversWorkload checks that Compile compiles every pipeline a
// workload then uses: after Compile for the reconstruction workload, a
// forward pass creates no pipeline, and after Compile for training, the
// backward pass and AdamW create none either. Shapes: `tiny` at 64 px
// (the shipped model) and at 224 px, patch 16 (long sequences), and
// `micro` with norm_pix_loss, at the default mask ratio.
func TestCompileCoversWorkload(t *testing.T) {
	gpuBackend(t) // skips without an adapter
	tiny224, _ := model.Preset(model.PresetTiny)
	tiny224.ImageSize, tiny224.PatchSize = 224, 16
	tiny, _ := model.Preset(model.PresetTiny)
	micro, _ := model.Preset(model.PresetMicro)
	micro.NormPixLoss = true
	for _, tc := range []struct {
		name  string
		cfg   model.Config
		batch int
	}{{"tiny", tiny, 2}, {"tiny-224", tiny224, 1}, {"micro-normpix", micro, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			cfg := tc.cfg
			w := Workload{Config: cfg, Batch: tc.batch, Keep: cfg.NumKeep(cfg.MaskRatio)}
			var calls []int
			if err := b.Compile(context.Background(), w, func(done, total int) { calls = append(calls, done, total) }); err != nil {
				t.Fatal(err)
			}
			if len(calls) < 4 || calls[0] != 0 || calls[len(calls)-2] != calls[len(calls)-1] {
				t.Errorf("progress calls (done, total): %v; want 0 first and done == total last", calls)
			}
			compiled := slices.Collect(maps.Keys(b.pipelines))
			m, err := mae.NewInit(b, cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.NewPass(w.Batch, w.Keep)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			l := cfg.NumPatches()
			mk, err := model.MaskFromNoise(model.RandomNoise(rng, w.Batch, l), w.Batch, l, w.Keep)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.SetInputs(make([]float32, w.Batch*cfg.NumChannels*cfg.ImageSize*cfg.ImageSize), mk); err != nil {
				t.Fatal(err)
			}
			p.Forward()
			if _, err := p.Loss(); err != nil {
				t.Fatal(err)
			}
			checkNoNewPipelines(t, b, compiled, "forward")

			w.Training = true
			if err := b.Compile(context.Background(), w, nil); err != nil {
				t.Fatal(err)
			}
			compiled = slices.Collect(maps.Keys(b.pipelines))
			p.Backward()
			m.AdamW(1e-3)
			if _, err := p.Loss(); err != nil {
				t.Fatal(err)
			}
			checkNoNewPipelines(t, b, compiled, "backward and AdamW")
			t.Logf("%d pipelines for training, %d of them for the forward pass", len(b.pipelines), len(calls)/2-1)
		})
	}
}

func checkNoNewPipelines(t *testing.T, b *Backend, compiled []pipeKey, what string) {
	t.Helper()
	for k := range b.pipelines {
		if !slices.Contains(compiled, k) {
			t.Errorf("%s created pipeline %s %s [%s], which Compile did not", what, k.file, k.entry, k.spec)
		}
	}
}
