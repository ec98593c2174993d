package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"webmae/engine/model"
	"webmae/engine/tutorial"
)

// TutorialRun trains a model of the tutorial's family (engine/tutorial)
// with the trainer's data pipeline (epoch permutations drawn from the
// seed, the official augmentation), learning-rate schedule and AdamW
// (mae.ApplyAdamW through tutorial.Model.AdamW), masking by the tutorial's
// rule. It keeps no checkpoint with optimizer state and has no held-out
// evaluation: at the end, or when ctx is cancelled, it writes
// model.safetensors (the tutorial's keys) and config.json into dir.
func TutorialRun(ctx context.Context, m *tutorial.Model, ds *Dataset, dir string, opts Options, onStep func(StepInfo)) error {
	cfg := m.Config
	if opts.MaskRatio == 0 {
		opts.MaskRatio = cfg.MaskingRatio
	}
	switch {
	case opts.Steps < 1:
		return fmt.Errorf("tutorial training: steps %d < 1", opts.Steps)
	case opts.Batch < 1:
		return fmt.Errorf("tutorial training: batch %d < 1", opts.Batch)
	case !(opts.BaseLR > 0) || math.IsInf(opts.BaseLR, 0):
		return fmt.Errorf("tutorial training: base learning rate %g is not positive", opts.BaseLR)
	case opts.Warmup < 0:
		return fmt.Errorf("tutorial training: warmup %d < 0", opts.Warmup)
	case ds.Channels != cfg.Channels:
		return fmt.Errorf("tutorial training: data set has %d channels, model %d", ds.Channels, cfg.Channels)
	case len(ds.Train) == 0:
		return fmt.Errorf("tutorial training: data set %s has no training images", ds.Source)
	}
	if err := cfg.ValidateRatio(opts.MaskRatio); err != nil {
		return fmt.Errorf("tutorial training: mask ratio: %w", err)
	}
	l, nm := cfg.NumPatches(), cfg.NumMasked(opts.MaskRatio)
	pass, err := m.NewPass(opts.Batch, l-nm)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, trainStream))
	sched := Schedule{BaseLR: opts.BaseLR, Batch: opts.Batch, Warmup: opts.Warmup, Steps: opts.Steps}
	per := cfg.Channels * cfg.ImageSize * cfg.ImageSize
	images := make([]float32, opts.Batch*per)
	var perm []int
	start := time.Now()
	for step := 0; step < opts.Steps; step++ {
		if ctx.Err() != nil {
			if err := saveTutorial(m, dir); err != nil {
				return err
			}
			return fmt.Errorf("%w at step %d; model saved in %s", ErrInterrupted, step, dir)
		}
		for i := range opts.Batch {
			g := step*opts.Batch + i
			if g%len(ds.Train) == 0 || perm == nil {
				perm = rand.New(rand.NewPCG(opts.Seed, uint64(g/len(ds.Train)))).Perm(len(ds.Train))
			}
			src := ds.Train[perm[g%len(ds.Train)]]
			img, err := ApplyAugment(src, DrawAugment(rng, src.W, src.H), cfg.ImageSize, ds.Norm)
			if err != nil {
				return fmt.Errorf("step %d: batch: %w", step+1, err)
			}
			copy(images[i*per:], img)
		}
		mk, err := tutorial.MaskFromNoise(model.RandomNoise(rng, opts.Batch, l), opts.Batch, l, nm)
		if err != nil {
			return err
		}
		if err := pass.SetInputs(images, mk); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		pass.Forward()
		loss, err := pass.Loss()
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		lr := sched.LR(step)
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return fmt.Errorf("step %d: loss is %g (lr %.3g); stopped without saving", step+1, loss, lr)
		}
		pass.Backward()
		m.AdamW(lr)
		if onStep != nil {
			el := time.Since(start)
			onStep(StepInfo{Step: step + 1, Steps: opts.Steps, Loss: float64(loss), LR: lr, Elapsed: el,
				ImagesPerSec: float64((step+1)*opts.Batch) / el.Seconds()})
		}
	}
	return saveTutorial(m, dir)
}

func saveTutorial(m *tutorial.Model, dir string) error {
	params, err := m.ReadParams()
	if err != nil {
		return err
	}
	return tutorial.SaveModel(dir, m.Config, m.Layout, params)
}
