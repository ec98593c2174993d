package explore

import (
	"fmt"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// Mask kinds of the sweep.
const (
	MaskRandom = "random"
	MaskBlock  = "block"
)

// PredictorModel names the model's reconstruction among the baselines.
const PredictorModel = "model"

// Predictors is the sweep's predictor order: the model, then the two
// baselines of engine/recon.
var Predictors = []string{PredictorModel, recon.BaselineMean, recon.BaselineIDW}

// Sweep bounds.
const (
	MaxSweepRatios = 32
	MaxSweepMasks  = 16
)

// SweepConfig is a masking-ratio sweep: every ratio, with Masks masks of
// each kind, the i-th drawn with seed Seed+i.
type SweepConfig struct {
	Ratios []float64
	Masks  int
	Seed   uint64
	Kinds  []string // MaskRandom, MaskBlock
}

// DefaultSweep is nine ratios 0.1..0.9, three masks each, both kinds.
func DefaultSweep(seed uint64) SweepConfig {
	return SweepConfig{Ratios: []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, Masks: 3, Seed: seed, Kinds: []string{MaskRandom, MaskBlock}}
}

// Point is one curve point: the masked-patch MSE (normalised pixel space,
// pooled over the masks' removed values, recon.Meter) of a predictor at a
// ratio with one mask kind, and each mask's own MSE.
type Point struct {
	Ratio     float64
	Keep      int
	Kind      string
	Predictor string
	MSE       float64
	PerMask   []float64
}

// NumKeep is how many of l patches stay visible at ratio by the official
// rule int(l * (1 - ratio)), clamped to keep and remove at least one.
func NumKeep(l int, ratio float64) int {
	return min(max(int(float64(l)*(1-ratio)), 1), l-1)
}

// SweepMask draws the i-th mask of a kind at keep visible patches.
func SweepMask(cfg model.Config, kind string, keep int, seed uint64) (model.Masking, error) {
	switch kind {
	case MaskRandom:
		return recon.RandomMask(cfg.NumPatches(), keep, seed)
	case MaskBlock:
		return recon.BlockMask(cfg.GridSize(), keep, seed)
	}
	return model.Masking{}, fmt.Errorf("unknown mask kind %q (have %s, %s)", kind, MaskRandom, MaskBlock)
}

func (c SweepConfig) validate() error {
	if len(c.Ratios) == 0 || len(c.Ratios) > MaxSweepRatios {
		return fmt.Errorf("sweep: %d ratios, need 1 to %d", len(c.Ratios), MaxSweepRatios)
	}
	if c.Masks < 1 || c.Masks > MaxSweepMasks {
		return fmt.Errorf("sweep: %d masks per ratio, need 1 to %d", c.Masks, MaxSweepMasks)
	}
	for _, r := range c.Ratios {
		if !(r > 0 && r < 1) {
			return fmt.Errorf("sweep: ratio %g outside (0, 1)", r)
		}
	}
	if len(c.Kinds) == 0 {
		return fmt.Errorf("sweep: no mask kind")
	}
	return nil
}

// Sweep measures, for one image (C, H, W, normalised), the masked-patch
// MSE of the model and both baselines at every ratio and mask kind of sc.
// The points come ratio by ratio, then kind, then in Predictors order.
// progress, when not nil, is called after each ratio with the number done.
func Sweep(r *recon.Reconstructor, image []float32, sc SweepConfig, progress func(done, total int)) ([]Point, error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	cfg := r.Model().Config
	var out []Point
	for ri, ratio := range sc.Ratios {
		keep := NumKeep(cfg.NumPatches(), ratio)
		for _, kind := range sc.Kinds {
			meters := make([]recon.Meter, len(Predictors))
			per := make([][]float64, len(Predictors))
			for i := 0; i < sc.Masks; i++ {
				mk, err := SweepMask(cfg, kind, keep, sc.Seed+uint64(i))
				if err != nil {
					return nil, fmt.Errorf("sweep at ratio %g: %w", ratio, err)
				}
				for pi, name := range Predictors {
					res, err := predict(r, name, image, mk)
					if err != nil {
						return nil, fmt.Errorf("sweep at ratio %g, %s: %w", ratio, name, err)
					}
					meters[pi].Add(res)
					per[pi] = append(per[pi], res.MSE)
				}
			}
			for pi, name := range Predictors {
				out = append(out, Point{Ratio: ratio, Keep: keep, Kind: kind, Predictor: name, MSE: meters[pi].MSE(), PerMask: per[pi]})
			}
		}
		if progress != nil {
			progress(ri+1, len(sc.Ratios))
		}
	}
	return out, nil
}

// predict reconstructs image with the model or a baseline.
func predict(r *recon.Reconstructor, name string, image []float32, mk model.Masking) (recon.Result, error) {
	if name == PredictorModel {
		return r.Reconstruct(image, mk)
	}
	return recon.Baseline(name, r.Model().Config, r.Norm(), image, recon.Masked(mk, 0))
}
