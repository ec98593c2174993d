package recon

import (
	"fmt"
	"math"
	"math/rand/v2"

	"webmae/engine/model"
)

// maskStream separates the mask generators' random streams from other
// users of the same seed.
const maskStream = 0x6d61736b // "mask"

// RandomMask is the official per-sample random masking of one image (B=1):
// noise ~ U(0,1) from a PCG generator seeded with seed, keep the keep
// patches of lowest noise.
func RandomMask(l, keep int, seed uint64) (model.Masking, error) {
	mk, err := model.MaskFromNoise(MaskNoise(l, seed), 1, l, keep)
	if err != nil {
		return model.Masking{}, fmt.Errorf("random mask: %w", err)
	}
	return mk, nil
}

// MaskNoise is the noise (one value per patch) behind RandomMask with the
// same seed: the patches of lowest noise are kept; the tutorial's family
// applies its own rule to the same noise.
func MaskNoise(l int, seed uint64) []float32 {
	return model.RandomNoise(rand.New(rand.NewPCG(seed, maskStream)), 1, l)
}

// MaskFromMasked builds the masking of one image from a hand-made mask:
// masked[i] is true for a removed patch. At least one patch must be kept
// and one removed.
func MaskFromMasked(masked []bool) (model.Masking, error) {
	var kept []int
	for i, m := range masked {
		if !m {
			kept = append(kept, i)
		}
	}
	mk, err := model.MaskFromKept([][]int{kept}, len(masked))
	if err != nil {
		return model.Masking{}, fmt.Errorf("hand-made mask: %w", err)
	}
	return mk, nil
}

// Masked returns sample b's mask as booleans (true: removed).
func Masked(mk model.Masking, b int) []bool {
	out := make([]bool, mk.L)
	for i, v := range mk.Mask[b*mk.L : (b+1)*mk.L] {
		out[i] = v != 0
	}
	return out
}

// BlockMask is BEiT-style block-wise masking of one image on a grid x grid
// patch grid, removing exactly grid*grid - keep patches. Rectangular
// blocks are drawn as in BEiT's MaskingGenerator: area uniform in
// [min(4, remaining), remaining] patches, aspect ratio log-uniform in
// [0.3, 1/0.3], a uniformly random position, accepted when it masks
// between 1 and the remaining number of new patches (10 tries per block).
// When no block fits (few patches remain), single patches next to the
// masked region are added (random unmasked patches if none border it), so
// the count is exact. The generator is seeded with seed.
func BlockMask(grid, keep int, seed uint64) (model.Masking, error) {
	l := grid * grid
	if grid < 1 || keep < 1 || keep >= l {
		return model.Masking{}, fmt.Errorf("block mask: keeping %d of %d patches: need 1 <= keep < %d", keep, l, l)
	}
	rng := rand.New(rand.NewPCG(seed, maskStream+1))
	masked := make([]bool, l)
	count, target := 0, l-keep
	const minBlock, tries = 4, 10
	logLo, logHi := math.Log(0.3), math.Log(1/0.3)
	for count < target {
		remaining := target - count
		placed := false
		for try := 0; try < tries && !placed; try++ {
			lo := float64(min(minBlock, remaining))
			area := lo + rng.Float64()*(float64(remaining)-lo)
			aspect := math.Exp(logLo + rng.Float64()*(logHi-logLo))
			h := int(math.Round(math.Sqrt(area * aspect)))
			w := int(math.Round(math.Sqrt(area / aspect)))
			if h < 1 || w < 1 || h > grid || w > grid {
				continue
			}
			top, left := rng.IntN(grid-h+1), rng.IntN(grid-w+1)
			added := 0
			for y := top; y < top+h; y++ {
				for x := left; x < left+w; x++ {
					if !masked[y*grid+x] {
						added++
					}
				}
			}
			if added == 0 || added > remaining {
				continue
			}
			for y := top; y < top+h; y++ {
				for x := left; x < left+w; x++ {
					masked[y*grid+x] = true
				}
			}
			count += added
			placed = true
		}
		if !placed {
			masked[growCandidate(masked, grid, rng)] = true
			count++
		}
	}
	mk, err := MaskFromMasked(masked)
	if err != nil {
		return model.Masking{}, fmt.Errorf("block mask: %w", err)
	}
	return mk, nil
}

// growCandidate picks a random unmasked patch that borders the masked
// region (4-neighbourhood), or any unmasked patch if none does.
func growCandidate(masked []bool, grid int, rng *rand.Rand) int {
	var border, free []int
	for i, m := range masked {
		if m {
			continue
		}
		free = append(free, i)
		y, x := i/grid, i%grid
		if (y > 0 && masked[i-grid]) || (y < grid-1 && masked[i+grid]) || (x > 0 && masked[i-1]) || (x < grid-1 && masked[i+1]) {
			border = append(border, i)
		}
	}
	if len(border) > 0 {
		return border[rng.IntN(len(border))]
	}
	return free[rng.IntN(len(free))]
}
