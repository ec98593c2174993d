package main

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/tutorial"
)

// reconstructTutorial is `webmae reconstruct` for the tutorial's family:
// random masks follow its rule (the first int(ratio*L) of the noise's
// argsort are masked), block-wise masks keep L - int(ratio*L) patches.
func reconstructTutorial(weightsPath, configPath string, f reconstructFlags) error {
	cfg, err := tutorial.LoadConfig(configPath)
	if err != nil {
		return err
	}
	if err := cfg.ValidateRatio(f.ratio); err != nil {
		return fmt.Errorf("--ratio: %w", err)
	}
	params, err := tutorial.LoadWeightsFile(weightsPath, tutorial.NewLayout(cfg))
	if err != nil {
		return err
	}
	norm, normNote, err := modelNorm(f.model, cfg.Channels)
	if err != nil {
		return err
	}
	img, imageNote, err := readReconImage(f.image, cfg.Channels, cfg.ImageSize, norm)
	if err != nil {
		return err
	}
	var mk model.Masking
	if f.block {
		mk, err = recon.BlockMask(cfg.GridSize(), cfg.NumKeep(f.ratio), f.seed)
	} else {
		mk, err = cfg.RandomMask(f.ratio, f.seed)
	}
	if err != nil {
		return err
	}
	res, backendName, err := reconstructOnBackend(f, cfg.ImageSize, norm, img, mk, func(k backend.Kernels) (reconstructor, error) {
		m, err := tutorial.New(k, cfg)
		if err != nil {
			return nil, err
		}
		if err := m.SetParams(params); err != nil {
			return nil, err
		}
		return tutorial.NewReconstructor(m, norm)
	})
	if err != nil {
		return err
	}
	about := fmt.Sprintf("%s (the tutorial's MAE, %d px, patch %d), %s, on %s", weightsPath, cfg.ImageSize, cfg.PatchSize, normNote, backendName)
	reportReconstruction(f.out, about, imageNote, "", res, cfg.NumPatches())
	return nil
}
