package train

import (
	"fmt"

	"webmae/engine/mae"
	"webmae/engine/model"
)

// MaxEvalImages bounds the eval set (the default is 256).
const MaxEvalImages = 100_000

// CheckMemory refuses, before anything is allocated, a run whose model,
// training pass, evaluation passes and eval set would need more than
// mae.MaxMemoryBytes; zero options take their defaults as in New.
func CheckMemory(cfg model.Config, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	ratio, n := opts.MaskRatio, opts.EvalImages
	if ratio == 0 {
		ratio = cfg.MaskRatio
	}
	if n == 0 {
		n = DefaultEvalImages
	}
	if n > MaxEvalImages {
		return fmt.Errorf("eval images %d is over the limit of %d", n, MaxEvalImages)
	}
	if opts.Batch < 1 || n < 1 {
		return fmt.Errorf("batch %d and eval images %d must be at least 1", opts.Batch, n)
	}
	keep := max(1, cfg.NumKeep(ratio))
	m := mae.EstimateMemory(cfg, opts.Batch, keep, 1, true)
	eval := mae.EstimateMemory(cfg, min(evalBatch, n), max(1, cfg.NumKeep(EvalRatio)), 2, false)
	m.Pass += eval.Pass
	m.Extra = 4 * float64(n) * float64(cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	return m.Check(fmt.Sprintf("training %d px, patch %d at batch %d", cfg.ImageSize, cfg.PatchSize, opts.Batch))
}
