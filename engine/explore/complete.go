package explore

import (
	"fmt"
	"math"
	"math/rand/v2"

	"webmae/engine/recon"
)

// completeStream separates the complete reconstruction's random stream
// from the mask generators using the same seed.
const completeStream = 0x636f6d70 // "comp"

// CompletePlan is a set of complementary masks that predicts every patch
// exactly once. The patches are split at random (seeded) into K groups of
// sizes differing by at most one. Pass k masks the M consecutive groups
// k, k+1, ..., k+M-1 (mod K), keeps the others, and supplies the
// prediction of group k only. Each group is reported by exactly one pass,
// in which it is masked, so every patch is predicted once, from visible
// patches that are all other patches.
//
// K and M follow the ratio r: at r <= 0.5, M = 1 and K = round(1/r) (each
// pass hides one group: ratio 1/K); above, K = round(1/(1-r)) and M = K-1
// (each pass shows one group: ratio 1 - 1/K). K is clamped to [2, L]. The
// ratio each pass uses is therefore the nearest of 1/K or 1 - 1/K to r
// (0.75 exactly at r = 0.75, 0.5 at r = 0.5).
type CompletePlan struct {
	L, K, M int
	Groups  [][]int
}

// PlanComplete makes the plan for l patches at ratio r.
func PlanComplete(l int, r float64, seed uint64) (CompletePlan, error) {
	if l < 2 {
		return CompletePlan{}, fmt.Errorf("complete reconstruction: %d patches, need at least 2", l)
	}
	if !(r > 0 && r < 1) {
		return CompletePlan{}, fmt.Errorf("complete reconstruction: ratio %g outside (0, 1)", r)
	}
	k, m := int(math.Round(1/r)), 1
	if r > 0.5 {
		k = int(math.Round(1 / (1 - r)))
	}
	k = min(max(k, 2), l)
	if r > 0.5 {
		m = k - 1
	}
	perm := rand.New(rand.NewPCG(seed, completeStream)).Perm(l)
	p := CompletePlan{L: l, K: k, M: m, Groups: make([][]int, k)}
	for i, patch := range perm {
		p.Groups[i%k] = append(p.Groups[i%k], patch)
	}
	return p, nil
}

// Masked is pass k's mask (true: removed).
func (p CompletePlan) Masked(k int) []bool {
	out := make([]bool, p.L)
	for g := 0; g < p.M; g++ {
		for _, patch := range p.Groups[(k+g)%p.K] {
			out[patch] = true
		}
	}
	return out
}

// CompleteResult is a complete reconstruction: Result has every patch
// marked removed, its Recon is the combined prediction and its MSE the
// mean over every value of the image; Source[l] is the pass whose
// prediction patch l shows.
type CompleteResult struct {
	recon.Result
	Plan   CompletePlan
	Source []int
}

// Complete reconstructs every patch of image (C, H, W, normalised) once
// with the plan of PlanComplete(l, ratio, seed).
func Complete(r *recon.Reconstructor, image []float32, ratio float64, seed uint64) (CompleteResult, error) {
	cfg := r.Model().Config
	plan, err := PlanComplete(cfg.NumPatches(), ratio, seed)
	if err != nil {
		return CompleteResult{}, err
	}
	if len(image) != cfg.NumChannels*cfg.ImageSize*cfg.ImageSize {
		return CompleteResult{}, fmt.Errorf("complete reconstruction: image has %d values, model wants %d", len(image), cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	}
	combined := make([]float32, len(image))
	source := make([]int, plan.L)
	s, p, g := cfg.ImageSize, cfg.PatchSize, cfg.GridSize()
	for k := 0; k < plan.K; k++ {
		mk, err := recon.MaskFromMasked(plan.Masked(k))
		if err != nil {
			return CompleteResult{}, fmt.Errorf("complete reconstruction pass %d: %w", k, err)
		}
		res, err := r.Reconstruct(image, mk)
		if err != nil {
			return CompleteResult{}, fmt.Errorf("complete reconstruction pass %d: %w", k, err)
		}
		for _, patch := range plan.Groups[k] {
			source[patch] = k
			py, px := patch/g, patch%g
			for ch := 0; ch < cfg.NumChannels; ch++ {
				for y := py * p; y < (py+1)*p; y++ {
					row := (ch*s + y) * s
					copy(combined[row+px*p:row+(px+1)*p], res.Recon[row+px*p:row+(px+1)*p])
				}
			}
		}
	}
	all := make([]bool, plan.L)
	for i := range all {
		all[i] = true
	}
	res, err := recon.Compose(cfg, r.Norm(), image, all, combined)
	if err != nil {
		return CompleteResult{}, fmt.Errorf("complete reconstruction: %w", err)
	}
	res.NormPix = cfg.NormPixLoss
	return CompleteResult{Result: res, Plan: plan, Source: source}, nil
}

// Ratio is the masking ratio of pass 0; with groups of unequal size the
// other passes differ from it by at most M/L.
func (p CompletePlan) Ratio() float64 {
	n := 0
	for _, m := range p.Masked(0) {
		if m {
			n++
		}
	}
	return float64(n) / float64(p.L)
}
