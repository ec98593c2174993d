package mae

import (
	"fmt"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/model"
)

// countingKernels records the elements every allocation asks for.
type countingKernels struct {
	backend.Kernels
	n, largest int64
}

func (c *countingKernels) NewBuffer(n int) backend.Buffer {
	c.n, c.largest = c.n+int64(n), max(c.largest, int64(n))
	return c.Kernels.NewBuffer(n)
}

func (c *countingKernels) NewIndexBuffer(n int) backend.Buffer {
	c.n, c.largest = c.n+int64(n), max(c.largest, int64(n))
	return c.Kernels.NewIndexBuffer(n)
}

// TestExactMemoryMatchesAllocations: the estimate is what New and
// NewPass really allocate, for a few shapes.
func TestExactMemoryMatchesAllocations(t *testing.T) {
	for _, preset := range []string{model.PresetMicro, model.PresetTiny} {
		cfg, err := model.Preset(preset)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{1, 3} {
			k := &countingKernels{Kernels: cpu.New()}
			m, err := New(k, cfg)
			if err != nil {
				t.Fatal(err)
			}
			keep := cfg.NumKeep(cfg.MaskRatio)
			if _, err := m.NewPass(b, keep); err != nil {
				t.Fatal(err)
			}
			est := ExactMemory(cfg, b, keep)
			if est.Total() != 4*k.n || est.LargestBuffer != 4*k.largest {
				t.Errorf("%s batch %d: estimate %d bytes (largest %d), allocated %d (largest %d)", preset, b, est.Total(), est.LargestBuffer, 4*k.n, 4*k.largest)
			}
			k.Release()
		}
	}
}

// TestPublishedMAEMemory logs the README's memory table: the published
// MAE sizes, one 224-px image at mask ratio 0.75.
func TestPublishedMAEMemory(t *testing.T) {
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	for _, c := range model.PublishedConfigs() {
		lay := model.NewLayout(c.Config)
		m := ExactMemory(c.Config, 1, c.NumKeep(c.MaskRatio))
		t.Logf("| %s | %.1f M | %s | %s | %s | %s |", c.Name, float64(lay.Total)/1e6, mib(m.Params), mib(m.Params/2), mib(m.Activations), mib(m.Total()))
		if m.Activations >= m.Params {
			t.Errorf("%s: activations %d >= parameters %d for one image", c.Name, m.Activations, m.Params)
		}
	}
}
