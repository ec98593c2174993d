package ui

import (
	"testing"

	"webmae/engine/model"
	"webmae/engine/recon"
)

func mustPreset(t *testing.T, name string) model.Config {
	t.Helper()
	c, err := model.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countMasked(mk model.Masking) int { return mk.L - mk.K }

// The slider follows the official rule: int(L (1 - ratio)) patches kept.
func TestMaskingRatio(t *testing.T) {
	cfg := mustPreset(t, model.PresetTiny)
	for _, r := range []float64{0.05, 0.3, 0.5, 0.66, 0.7, 0.75, 0.9, 0.95} {
		for _, block := range []bool{false, true} {
			s := maskState{Ratio: DefaultRatio, Seed: 3, Block: block}.withRatio(r)
			mk, err := s.masking(cfg)
			if err != nil {
				t.Fatalf("ratio %g block %v: %v", r, block, err)
			}
			if want := 64 - int(64*(1-r)); countMasked(mk) != want {
				t.Errorf("ratio %g block %v: %d masked, want %d", r, block, countMasked(mk), want)
			}
		}
	}
	// micro has 16 patches: 0.95 would keep none; at least one stays visible
	mk, err := maskState{Ratio: 0.95, Seed: 1}.masking(mustPreset(t, model.PresetMicro))
	if err != nil || mk.K != 1 {
		t.Fatalf("micro at 0.95: keep %d, err %v; want 1 kept", mk.K, err)
	}
	// the slider clamps to its range
	if s := (maskState{}).withRatio(2); s.Ratio != MaxRatio {
		t.Errorf("ratio 2 -> %g, want %g", s.Ratio, MaxRatio)
	}
}

// Toggling a patch by hand changes exactly that patch and the ratio follows
// the count; moving the slider returns to the generator.
func TestMaskingToggle(t *testing.T) {
	cfg := mustPreset(t, model.PresetTiny)
	s := maskState{Ratio: 0.75, Seed: 1}
	mk0, _ := s.masking(cfg)
	before := recon.Masked(mk0, 0)
	s2, err := s.toggle(byConfig(cfg), 5)
	if err != nil {
		t.Fatal(err)
	}
	mk1, err := s2.masking(cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := recon.Masked(mk1, 0)
	for i := range before {
		if (before[i] != after[i]) != (i == 5) {
			t.Fatalf("patch %d: %v -> %v", i, before[i], after[i])
		}
	}
	if want := float64(countMasked(mk1)) / 64; s2.Ratio != want {
		t.Errorf("ratio %g, want %g", s2.Ratio, want)
	}
	if s3 := s2.withRatio(0.5); s3.Hand != nil {
		t.Error("the slider keeps the hand-made mask")
	}
	if _, err := s2.toggle(byConfig(cfg), 64); err == nil {
		t.Error("toggling patch 64 of 64 succeeded")
	}
	// a mask of another model size is dropped
	if s4 := s2.fit(mustPreset(t, model.PresetMicro)); s4.Hand != nil {
		t.Error("a 64-patch hand-made mask kept for a 16-patch model")
	}
	// the last visible patch cannot be masked
	all := make([]bool, 16)
	for i := range all {
		all[i] = i != 3
	}
	if _, err := (maskState{Hand: all}).toggle(byConfig(mustPreset(t, model.PresetMicro)), 3); err == nil {
		t.Error("masking every patch succeeded")
	}
}

// byConfig is the official family's masking for cfg.
func byConfig(cfg model.Config) func(maskState) (model.Masking, error) {
	return func(s maskState) (model.Masking, error) { return s.masking(cfg) }
}

func TestMaskedList(t *testing.T) {
	mk, err := recon.MaskFromMasked([]bool{false, true, false, true, true, false})
	if err != nil {
		t.Fatal(err)
	}
	if got := maskedList(mk); got != "1,3,4" {
		t.Fatalf("maskedList = %q, want 1,3,4", got)
	}
}
