package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"webmae/engine/fileio"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
)

func init() {
	commands["reconstruct"] = command{
		summary: "reconstruct one image: write the official demo's four panels as a PNG and print the masked-patch MSE",
		run:     runReconstruct,
	}
}

func runReconstruct(args []string) error {
	fs := flag.NewFlagSet("reconstruct", flag.ContinueOnError)
	modelPath := fs.String("model", "", modelFlagHelp)
	configPath := fs.String("config", "", configFlagHelp)
	imagePath := fs.String("image", "", "png or jpeg image (center-cropped to a square and resized to the model's size)")
	ratio := fs.Float64("ratio", 0.75, "masking ratio: int(L*(1-ratio)) patches stay visible")
	seed := fs.Uint64("seed", 0, "seed of the random mask")
	block := fs.Bool("block", false, "block-wise (BEiT-style) masking instead of random patches")
	out := fs.String("out", "", "output PNG: original | masked | reconstruction | reconstruction + visible")
	scale := fs.Int("scale", 0, "panel magnification (default: panels at least 192 px)")
	backendName := fs.String("backend", "auto", "compute backend: auto, cpu or gpu")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *modelPath == "" || *imagePath == "" || *out == "" {
		return errors.New("--model, --image and --out are required")
	}
	if err := fileio.CheckDistinct([]fileio.Named{{Name: "--out", Path: *out}}, reconstructInputs(*modelPath, *configPath, *imagePath)); err != nil {
		return err
	}
	if *scale < 0 {
		return fmt.Errorf("--scale %d: want a positive magnification (0: automatic)", *scale)
	}
	if wp, cp, ok := tutorialConfigFor(*modelPath, *configPath); ok {
		return reconstructTutorial(wp, cp, *modelPath, *imagePath, *out, *backendName, *ratio, *seed, *block, *scale)
	}
	cfg, params, format, err := model.LoadModelWithConfig(*modelPath, *configPath)
	if err != nil {
		return err
	}
	if _, err := stripScale(*scale, cfg.ImageSize); err != nil {
		return err
	}
	norm, normNote, err := modelNorm(*modelPath, cfg.NumChannels)
	if err != nil {
		return err
	}
	if err := cfg.ValidateRatio(*ratio); err != nil {
		return fmt.Errorf("--ratio: %w", err)
	}
	px, err := train.DecodeFile(*imagePath, cfg.NumChannels)
	if err != nil {
		return err
	}
	img, note, err := px.Fit(cfg.ImageSize)
	if err != nil {
		return fmt.Errorf("%s: %w", *imagePath, err)
	}
	norm.Normalize(img)

	keep := cfg.NumKeep(*ratio)
	var mk model.Masking
	if *block {
		mk, err = recon.BlockMask(cfg.GridSize(), keep, *seed)
	} else {
		mk, err = recon.RandomMask(cfg.NumPatches(), keep, *seed)
	}
	if err != nil {
		return err
	}

	if err := mae.EstimateMemory(cfg, 1, keep, 1, false).Check("reconstructing with this model"); err != nil {
		return err
	}
	k, err := openBackend(*backendName)
	if err != nil {
		return err
	}
	defer k.Release()
	m, err := mae.New(k, cfg)
	if err != nil {
		return err
	}
	if err := m.SetParams(params); err != nil {
		return err
	}
	r, err := recon.NewReconstructor(m, norm)
	if err != nil {
		return err
	}
	res, err := r.Reconstruct(img, mk)
	if err != nil {
		return err
	}

	if err := writeStrip(*out, res, norm, cfg.ImageSize, *scale); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "model: %s (%s names, %d px, patch %d), %s, on %s\n", *modelPath, format, cfg.ImageSize, cfg.PatchSize, normNote, k.Name())
	if note != "" {
		fmt.Fprintf(os.Stderr, "image: %s\n", note)
	}
	if cfg.NormPixLoss {
		fmt.Fprintln(os.Stderr, "norm_pix_loss model: predictions de-normalised with each masked patch's own mean and std (as the official demo)")
	}
	fmt.Fprintf(os.Stderr, "panels: original | masked | reconstruction | reconstruction + visible, written to %s\n", *out)
	fmt.Printf("masked %d of %d patches: masked-patch MSE %.4f (normalised pixels), PSNR %.2f dB\n",
		res.NumMasked(), cfg.NumPatches(), res.MSE, res.PSNR)
	return nil
}

// stripScale is the panel magnification for --scale (0: panels at least
// 192 px), refused when the strip would be over recon's size limit.
func stripScale(scale, imageSize int) (int, error) {
	if scale == 0 {
		scale = max(1, (192+imageSize-1)/imageSize)
	}
	if _, _, err := recon.StripSize(imageSize, imageSize, 4*scale, scale); err != nil {
		return 0, fmt.Errorf("--scale %d: %w", scale, err)
	}
	return scale, nil
}

// writeStrip writes the four panels of res side by side as a PNG,
// magnified by scale (see stripScale).
func writeStrip(out string, res recon.Result, norm recon.Norm, imageSize, scale int) error {
	scale, err := stripScale(scale, imageSize)
	if err != nil {
		return err
	}
	pix, w, h, err := recon.Strip(res, norm, 4*scale, scale)
	if err != nil {
		return err
	}
	return writePNG(out, &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)})
}

// modelNorm reads the normalisation from the preprocessor_config.json
// beside a model (a directory or a weights file), or falls back to the
// default for the channel count.
func modelNorm(modelPath string, channels int) (recon.Norm, string, error) {
	dir := modelPath
	if fi, err := os.Stat(modelPath); err == nil && !fi.IsDir() {
		dir = filepath.Dir(modelPath)
	}
	path := filepath.Join(dir, recon.PreprocessorFileName)
	data, err := fileio.ReadFile(path, recon.MaxPreprocessorFileSize)
	if errors.Is(err, os.ErrNotExist) {
		n, err := recon.DefaultNorm(channels)
		return n, fmt.Sprintf("default normalisation mean %v std %v", n.Mean, n.Std), err
	}
	if err != nil {
		return recon.Norm{}, "", err
	}
	n, err := recon.ParsePreprocessor(data, channels)
	if err != nil {
		return recon.Norm{}, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, fmt.Sprintf("normalisation mean %v std %v from %s", n.Mean, n.Std, recon.PreprocessorFileName), nil
}

// reconstructInputs lists every file reconstruct reads: the image, the
// model (a directory's weights and config included), the config and the
// preprocessor config beside the model.
func reconstructInputs(modelPath, configPath, imagePath string) []fileio.Named {
	dir := modelPath
	if fi, err := os.Stat(modelPath); err == nil && !fi.IsDir() {
		dir = filepath.Dir(modelPath)
	}
	return []fileio.Named{
		{Name: "--image", Path: imagePath},
		{Name: "--model", Path: modelPath},
		{Name: "--config", Path: configPath},
		{Name: "the model's weights", Path: filepath.Join(dir, model.ModelFileName)},
		{Name: "the model's config", Path: filepath.Join(dir, model.ConfigFileName)},
		{Name: "the model's preprocessor config", Path: filepath.Join(dir, recon.PreprocessorFileName)},
	}
}

// writePNG encodes img to path atomically: a full disk or a crash leaves
// any existing file at path intact.
func writePNG(path string, img image.Image) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}
