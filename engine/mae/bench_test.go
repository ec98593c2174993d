package mae

import (
	"math/rand/v2"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
)

// benchTrainStep measures one full training step (forward, backward,
// AdamW) of a preset at a batch size on the CPU backend and reports
// images/s.
func benchTrainStep(b *testing.B, preset string, batch int) {
	cfg, err := model.Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := NewInit(cpu.New(), cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	keep := cfg.NumKeep(cfg.MaskRatio)
	p, err := m.NewPass(batch, keep)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	images := make([]float32, batch*cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, batch, cfg.NumPatches()), batch, cfg.NumPatches(), keep)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.SetInputs(images, mk); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Forward()
		p.Backward()
		m.AdamW(1e-4)
	}
	if _, err := p.Loss(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkTrainStepMicroB32(b *testing.B) { benchTrainStep(b, model.PresetMicro, 32) }
func BenchmarkTrainStepTinyB32(b *testing.B)  { benchTrainStep(b, model.PresetTiny, 32) }
