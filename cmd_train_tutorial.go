package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"webmae/engine/fileio"
	"webmae/engine/model"
	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// tutorialTrainArgs are the `webmae train` flags the tutorial family uses.
type tutorialTrainArgs struct {
	config, init, data, out, backend string
	holdout                          []string
	opts                             train.Options
}

// trainFlagsOfficialOnly are the `webmae train` flags a --config run of
// the tutorial's family does not take.
var trainFlagsOfficialOnly = []string{"preset", "resume", "image-size", "patch-size", "channels", "norm-pix", "f16",
	"eval-every", "eval-images", "checkpoint-every"}

// trainWithConfig is `webmae train --config C.json`: C must select the
// tutorial's family (the official family takes --preset and the size
// flags); set holds the flags given explicitly.
func trainWithConfig(a tutorialTrainArgs, set map[string]bool) error {
	if a.config == "" {
		return errors.New("--init needs --config (a vit-pytorch-mae config.json)")
	}
	data, err := fileio.ReadFile(a.config, model.MaxConfigFileSize)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if !tutorial.IsConfig(data) {
		return fmt.Errorf("--config %s: not a %q config; the official family is chosen with --preset and the size flags", a.config, tutorial.Architecture)
	}
	var bad []string
	for _, name := range trainFlagsOfficialOnly {
		if set[name] {
			bad = append(bad, "--"+name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: not available for the tutorial's family (no checkpoint resume or held-out evaluation)", strings.Join(bad, ", "))
	}
	return runTrainTutorial(a)
}

// runTrainTutorial trains the tutorial's family (a vit-pytorch-mae
// --config): from --init weights (the tutorial's keys, e.g. a model trained
// in PyTorch) or freshly initialised as PyTorch does, seeded with --seed.
func runTrainTutorial(a tutorialTrainArgs) error {
	cfg, err := tutorial.LoadConfig(a.config)
	if err != nil {
		return err
	}
	lay := tutorial.NewLayout(cfg)
	params := make([]float32, lay.Total)
	if a.init != "" {
		if params, err = tutorial.LoadWeightsFile(a.init, lay); err != nil {
			return err
		}
	} else {
		tutorial.Init(lay, params, a.opts.Seed)
	}
	src, err := train.ParseSource(a.data, a.holdout)
	if err != nil {
		return err
	}
	ds, err := src.Load(cfg.Channels)
	if err != nil {
		return err
	}
	k, err := openBackend(a.backend)
	if err != nil {
		return err
	}
	defer k.Release()
	m, err := tutorial.New(k, cfg)
	if err != nil {
		return err
	}
	if err := m.SetParams(params); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "webmae train: the tutorial's MAE (vit-pytorch-mae), %s, on %s\n", lay, k.Name())
	ctx, stop := signal.NotifyContext(context.Background(), trainSignals...)
	defer stop()
	every := max(1, a.opts.Steps/20)
	err = train.TutorialRun(ctx, m, ds, a.out, a.opts, func(s train.StepInfo) {
		if s.Step%every == 0 || s.Step == s.Steps {
			fmt.Fprintf(os.Stderr, "step %d/%d: loss %.4f, lr %.3g, %.1f images/s\n", s.Step, s.Steps, s.Loss, s.LR, s.ImagesPerSec)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s/model.safetensors and config.json\n", a.out)
	return nil
}

// splitHoldout splits a --holdout list (empty: none).
func splitHoldout(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
