package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// DefaultRatio is the masking ratio at start (the paper's).
const DefaultRatio = 0.75

// Slider bounds of the masking ratio.
const (
	MinRatio = 0.05
	MaxRatio = 0.95
)

// maskState is what determines the mask of the reconstruction view: the
// official random masking or BEiT-style block-wise masking at Ratio, or a
// mask made by hand (Hand non-nil, true for a removed patch).
type maskState struct {
	Ratio float64 // the slider; follows a hand-made mask
	Block bool    // block-wise instead of random
	Seed  uint64  // of the generators; re-roll changes it
	Hand  []bool
}

// numKeep is how many of l patches stay visible at ratio by the official
// rule int(l * (1 - ratio)), clamped so that at least one patch is kept
// and one removed.
func numKeep(l int, ratio float64) int {
	k := int(float64(l) * (1 - ratio))
	return min(max(k, 1), l-1)
}

// masking returns the masking of one image for a model configuration.
func (s maskState) masking(cfg model.Config) (model.Masking, error) {
	l := cfg.NumPatches()
	switch {
	case s.Hand != nil:
		if len(s.Hand) != l {
			return model.Masking{}, fmt.Errorf("hand-made mask has %d patches, the model %d", len(s.Hand), l)
		}
		return recon.MaskFromMasked(s.Hand)
	case s.Block:
		return recon.BlockMask(cfg.GridSize(), numKeep(l, s.Ratio), s.Seed)
	default:
		return recon.RandomMask(l, numKeep(l, s.Ratio), s.Seed)
	}
}

// withRatio sets the ratio from the slider; a hand-made mask gives way to
// the generator.
func (s maskState) withRatio(r float64) maskState {
	s.Ratio = min(max(r, MinRatio), MaxRatio)
	s.Hand = nil
	return s
}

// toggle flips patch i of the current mask (as the model family's masking
// makes it) by hand; the ratio follows the new count of removed patches.
func (s maskState) toggle(masking func(maskState) (model.Masking, error), i int) (maskState, error) {
	mk, err := masking(s)
	if err != nil {
		return s, err
	}
	masked := recon.Masked(mk, 0)
	if i < 0 || i >= len(masked) {
		return s, fmt.Errorf("patch %d is outside the %d-patch grid", i, len(masked))
	}
	masked[i] = !masked[i]
	n := 0
	for _, m := range masked {
		if m {
			n++
		}
	}
	switch n {
	case 0:
		return s, errors.New("at least one patch must stay masked")
	case len(masked):
		return s, errors.New("at least one patch must stay visible")
	}
	s.Hand = masked
	s.Ratio = float64(n) / float64(len(masked))
	return s, nil
}

// fit adapts the state to a model with another patch grid: a hand-made
// mask of a different size is dropped.
func (s maskState) fit(cfg model.Config) maskState {
	if s.Hand != nil && len(s.Hand) != cfg.NumPatches() {
		s.Hand = nil
	}
	return s
}

// maskedList lists the removed patches of a masking, "3,7,...".
func maskedList(mk model.Masking) string {
	var ids []string
	for i, m := range recon.Masked(mk, 0) {
		if m {
			ids = append(ids, strconv.Itoa(i))
		}
	}
	return strings.Join(ids, ",")
}
