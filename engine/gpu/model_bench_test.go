package gpu

import (
	"testing"

	"webmae/engine/bench"
	"webmae/engine/model"
)

// BenchmarkModel times whole MAE workloads on the device in each form of
// the workgroup reductions (plain, and subgroups where the device has the
// feature), side by side in one run:
//   - train/tiny-b8: one training step of `tiny` at batch 8 (forward,
//     backward, AdamW), as the browser's /bench page measures it;
//   - recon/tiny: one image's reconstruction (forward and loss readback);
//   - recon/224: the same for the 224-px default model's shape (224 px,
//     patch 16, `tiny` widths; random weights).
func BenchmarkModel(b *testing.B) {
	tiny, err := model.Preset(model.PresetTiny)
	if err != nil {
		b.Fatal(err)
	}
	px224 := tiny
	px224.ImageSize, px224.PatchSize = 224, 16
	for _, w := range []struct {
		name  string
		cfg   model.Config
		batch int
		train bool
	}{{"train/tiny-b8", tiny, 8, true}, {"recon/tiny", tiny, 1, false}, {"recon/224", px224, 1, false}} {
		for _, form := range []string{"plain", "subgroups"} {
			b.Run(w.name+"/"+form, func(b *testing.B) {
				g := gpuBackend(b)
				def := g.Subgroups()
				defer g.UseSubgroups(def)
				if err := g.UseSubgroups(form == "subgroups"); err != nil {
					b.Skip(err)
				}
				benchModel(b, g, w.cfg, w.batch, w.train)
			})
		}
	}
}

func benchModel(b *testing.B, g *Backend, cfg model.Config, batch int, train bool) {
	m, p, err := bench.RandomPass(g, cfg, batch)
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		p.Forward()
		if train {
			p.Backward()
			m.AdamW(1e-4)
		}
		if _, err := p.Loss(); err != nil { // waits for the device
			b.Fatal(err)
		}
	}
	step() // compile the pipelines, create the bind groups
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}
