package main

import (
	"fmt"
	"os"

	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// reconstructTutorial is `webmae reconstruct` for the tutorial's family:
// random masks follow its rule (the first int(ratio*L) of the noise's
// argsort are masked), block-wise masks keep L - int(ratio*L) patches.
func reconstructTutorial(weightsPath, configPath, modelPath, imagePath, out, backendName string, ratio float64, seed uint64, block bool, scale int) error {
	cfg, err := tutorial.LoadConfig(configPath)
	if err != nil {
		return err
	}
	if err := cfg.ValidateRatio(ratio); err != nil {
		return fmt.Errorf("--ratio: %w", err)
	}
	params, err := tutorial.LoadWeightsFile(weightsPath, tutorial.NewLayout(cfg))
	if err != nil {
		return err
	}
	norm, normNote, err := modelNorm(modelPath, cfg.Channels)
	if err != nil {
		return err
	}
	px, err := train.DecodeFile(imagePath, cfg.Channels)
	if err != nil {
		return err
	}
	img, note, err := px.Fit(cfg.ImageSize)
	if err != nil {
		return fmt.Errorf("%s: %w", imagePath, err)
	}
	norm.Normalize(img)
	var mk model.Masking
	if block {
		mk, err = recon.BlockMask(cfg.GridSize(), cfg.NumKeep(ratio), seed)
	} else {
		mk, err = cfg.RandomMask(ratio, seed)
	}
	if err != nil {
		return err
	}
	k, err := openBackend(backendName)
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
	r, err := tutorial.NewReconstructor(m, norm)
	if err != nil {
		return err
	}
	res, err := r.Reconstruct(img, mk)
	if err != nil {
		return err
	}
	if err := writeStrip(out, res, norm, cfg.ImageSize, scale); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "model: %s (the tutorial's MAE, %d px, patch %d), %s, on %s\n", weightsPath, cfg.ImageSize, cfg.PatchSize, normNote, k.Name())
	if note != "" {
		fmt.Fprintf(os.Stderr, "image: %s\n", note)
	}
	fmt.Fprintf(os.Stderr, "panels: original | masked | reconstruction | reconstruction + visible, written to %s\n", out)
	fmt.Printf("masked %d of %d patches: masked-patch MSE %.4f (normalised pixels), PSNR %.2f dB\n",
		res.NumMasked(), cfg.NumPatches(), res.MSE, res.PSNR)
	return nil
}
