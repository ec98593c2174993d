package mae_test

import (
	"testing"

	"webmae/engine/bench"
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
	m, p, err := bench.RandomPass(cpu.New(), cfg, batch)
	if err != nil {
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
