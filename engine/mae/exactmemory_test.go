package mae

import (
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/model"
)

// allocCounter records the elements every allocation asks for.
type allocCounter struct {
	backend.Kernels
	n, largest int64
}

func (c *allocCounter) NewBuffer(n int) backend.Buffer {
	c.n, c.largest = c.n+int64(n), max(c.largest, int64(n))
	return c.Kernels.NewBuffer(n)
}

func (c *allocCounter) NewIndexBuffer(n int) backend.Buffer {
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
			k := &allocCounter{Kernels: cpu.New()}
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
