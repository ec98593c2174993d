package mae

import (
	"fmt"
	"strings"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/model"
)

// countingKernels counts the elements allocated through it.
type countingKernels struct {
	backend.Kernels
	elems int
}

func (c *countingKernels) NewBuffer(n int) backend.Buffer {
	c.elems += n
	return c.Kernels.NewBuffer(n)
}

func (c *countingKernels) NewIndexBuffer(n int) backend.Buffer {
	c.elems += n
	return c.Kernels.NewIndexBuffer(n)
}

// The estimate equals what New, NewPass and the first AdamW step
// allocate, element for element, with and without norm_pix_loss.
func TestEstimateMemoryIsExact(t *testing.T) {
	for _, normPix := range []bool{false, true} {
		cfg := smallConfig(normPix)
		for _, b := range []int{1, 3} {
			k := &countingKernels{Kernels: cpu.New()}
			m, err := New(k, cfg)
			if err != nil {
				t.Fatal(err)
			}
			model0 := k.elems
			keep := cfg.NumKeep(0.75)
			if _, err := m.NewPass(b, keep); err != nil {
				t.Fatal(err)
			}
			pass := k.elems - model0
			m.AdamW(1e-3)
			all := k.elems
			est := EstimateMemory(cfg, b, keep, 1, true)
			if int(est.Model) != 4*all-4*pass || int(est.Pass) != 4*pass {
				t.Errorf("norm_pix %v, batch %d: estimated model %v B, pass %v B; allocated %d B and %d B",
					normPix, b, est.Model, est.Pass, 4*(all-pass), 4*pass)
			}
		}
	}
}

// Passes over the limit are refused before anything is allocated, with
// an error that names the limit.
func TestNewPassRefusesOverTheLimit(t *testing.T) {
	cfg, err := model.Preset(model.PresetTiny)
	if err != nil {
		t.Fatal(err)
	}
	k := &countingKernels{Kernels: cpu.New()}
	m, err := New(k, cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := k.elems
	_, err = m.NewPass(1_000_000, cfg.NumKeep(0.75))
	if err == nil || !strings.Contains(err.Error(), "over the 8 GiB memory limit") || k.elems != before {
		t.Fatalf("batch 1000000: %v (allocated %d elements)", err, k.elems-before)
	}
	t.Log(err)
}

// TestPublishedMAEMemory logs the README's memory table: the published
// MAE sizes, one 224-px image at mask ratio 0.75 (parameters, the same in
// F16, one pass's activations, and parameters + gradients + activations).
func TestPublishedMAEMemory(t *testing.T) {
	mib := func(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }
	for _, c := range model.PublishedConfigs() {
		lay := model.NewLayout(c.Config)
		m := EstimateMemory(c.Config, 1, c.NumKeep(c.MaskRatio), 1, false)
		params := m.Model / 2 // parameters and their gradients
		t.Logf("| %s | %.1f M | %s | %s | %s | %s |", c.Name, float64(lay.Total)/1e6, mib(params), mib(params/2), mib(m.Pass), mib(m.Total()))
		if m.Pass >= params {
			t.Errorf("%s: activations %v >= parameters %v for one image", c.Name, m.Pass, params)
		}
	}
}
