package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"time"

	"webmae/engine/fileio"
	"webmae/engine/model"
	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// tutorialTrainArgs are the `webmae train` flags the tutorial family uses.
type tutorialTrainArgs struct {
	config, init, data, out, backend string
	holdout                          []string
	every                            time.Duration
	opts                             train.Options
}

// trainFlagsOfficialOnly are the `webmae train` flags a --config run of
// the tutorial's family does not take (--resume takes the family from the
// checkpoint, without --config).
var trainFlagsOfficialOnly = []string{"preset", "resume", "image-size", "patch-size", "channels", "norm-pix", "f16"}

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
		return fmt.Errorf("%s: not available with --config (the tutorial's family is float32 and sized by its config; resume a run with --resume --out alone)", strings.Join(bad, ", "))
	}
	return runTrainTutorial(a)
}

// runTrainTutorial starts a run of the tutorial's family (a
// vit-pytorch-mae --config) through train.Trainer: from --init weights (the
// tutorial's keys, e.g. a model trained in PyTorch) or freshly initialised
// as PyTorch does, seeded with --seed.
func runTrainTutorial(a tutorialTrainArgs) error {
	cfg, err := tutorial.LoadConfig(a.config)
	if err != nil {
		return err
	}
	var params []float32
	if a.init != "" {
		if params, err = tutorial.LoadWeightsFile(a.init, tutorial.NewLayout(cfg)); err != nil {
			return err
		}
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
	net, err := train.InitTutorial(k, cfg, a.opts.Seed)
	if err != nil {
		return err
	}
	if params != nil {
		if err := net.SetParams(params); err != nil {
			return err
		}
	}
	tr, err := train.NewFrom(net, ds, train.DirStore{Dir: a.out}, a.opts)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), trainSignals...)
	defer stop()
	return trainAndReport(ctx, tr, k.Name(), a.every, a.out)
}

// splitHoldout splits a --holdout list (empty: none).
func splitHoldout(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
