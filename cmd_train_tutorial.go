package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"webmae/engine/backend"
	"webmae/engine/fileio"
	"webmae/engine/model"
	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// trainFlagsOfficialOnly are the `webmae train` flags a --config run of
// the tutorial's family does not take (--resume takes the family from the
// checkpoint, without --config).
var trainFlagsOfficialOnly = []string{"preset", "resume", "image-size", "patch-size", "channels", "norm-pix", "f16"}

// trainWithConfig is `webmae train --config C.json`: C must select the
// tutorial's family (the official family takes --preset and the size
// flags).
func trainWithConfig(ctx context.Context, f trainFlags) error {
	if f.config == "" {
		return errors.New("--init needs --config (a vit-pytorch-mae config.json)")
	}
	data, err := fileio.ReadFile(f.config, model.MaxConfigFileSize)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if !tutorial.IsConfig(data) {
		return fmt.Errorf("--config %s: not a %q config; the official family is chosen with --preset and the size flags", f.config, tutorial.Architecture)
	}
	var bad []string
	for _, name := range trainFlagsOfficialOnly {
		if f.set[name] {
			bad = append(bad, "--"+name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: not available with --config (the tutorial's family is float32 and sized by its config; resume a run with --resume --out alone)", strings.Join(bad, ", "))
	}
	if err := checkTrainRun(f, f.opts); err != nil {
		return err
	}
	return trainTutorial(ctx, f)
}

// trainTutorial starts a run of the tutorial's family (a vit-pytorch-mae
// --config) through train.Trainer: from --init weights (the tutorial's
// keys, e.g. a model trained in PyTorch) or freshly initialised as PyTorch
// does, seeded with --seed.
func trainTutorial(ctx context.Context, f trainFlags) error {
	cfg, err := tutorial.LoadConfig(f.config)
	if err != nil {
		return err
	}
	var params []float32
	if f.init != "" {
		if params, err = tutorial.LoadWeightsFile(f.init, tutorial.NewLayout(cfg)); err != nil {
			return err
		}
	}
	ds, err := loadTrainData(f, cfg.Channels)
	if err != nil {
		return err
	}
	return trainOn(ctx, f, func(k backend.Kernels) (*train.Trainer, error) {
		net, err := train.InitTutorial(k, cfg, f.opts.Seed)
		if err != nil {
			return nil, err
		}
		if params != nil {
			if err := net.SetParams(params); err != nil {
				return nil, err
			}
		}
		return train.NewFrom(net, ds, train.DirStore{Dir: f.out}, f.opts)
	})
}
