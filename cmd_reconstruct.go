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

	"webmae/engine/backend"
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

// reconstructFlags are the options of `webmae reconstruct`.
type reconstructFlags struct {
	model, config, image, out, backend string
	ratio                              float64
	seed                               uint64
	block                              bool
	scale                              int
}

func parseReconstructFlags(args []string) (reconstructFlags, error) {
	var f reconstructFlags
	fs := flag.NewFlagSet("reconstruct", flag.ContinueOnError)
	fs.StringVar(&f.model, "model", "", modelFlagHelp)
	fs.StringVar(&f.config, "config", "", configFlagHelp)
	fs.StringVar(&f.image, "image", "", "png or jpeg image (center-cropped to a square and resized to the model's size)")
	fs.Float64Var(&f.ratio, "ratio", 0.75, "masking ratio: int(L*(1-ratio)) patches stay visible")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the random mask")
	fs.BoolVar(&f.block, "block", false, "block-wise (BEiT-style) masking instead of random patches")
	fs.StringVar(&f.out, "out", "", "output PNG: original | masked | reconstruction | reconstruction + visible")
	fs.IntVar(&f.scale, "scale", 0, "panel magnification (default: panels at least 192 px)")
	fs.StringVar(&f.backend, "backend", "auto", "compute backend: auto, cpu or gpu")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.model == "" || f.image == "" || f.out == "" {
		return f, errors.New("--model, --image and --out are required")
	}
	if err := fileio.CheckDistinct([]fileio.Named{{Name: "--out", Path: f.out}}, reconstructInputs(f.model, f.config, f.image)); err != nil {
		return f, err
	}
	if f.scale < 0 {
		return f, fmt.Errorf("--scale %d: want a positive magnification (0: automatic)", f.scale)
	}
	return f, nil
}

func runReconstruct(args []string) error {
	f, err := parseReconstructFlags(args)
	if err != nil {
		return err
	}
	if wp, cp, ok := tutorialConfigFor(f.model, f.config); ok {
		return reconstructTutorial(wp, cp, f)
	}
	return reconstructOfficial(f)
}

// reconstructOfficial is `webmae reconstruct` for the official MAE family.
func reconstructOfficial(f reconstructFlags) error {
	cfg, params, format, err := model.LoadModelWithConfig(f.model, f.config)
	if err != nil {
		return err
	}
	if _, err := stripScale(f.scale, cfg.ImageSize); err != nil {
		return err
	}
	norm, normNote, err := modelNorm(f.model, cfg.NumChannels)
	if err != nil {
		return err
	}
	if err := cfg.ValidateRatio(f.ratio); err != nil {
		return fmt.Errorf("--ratio: %w", err)
	}
	img, imageNote, err := readReconImage(f.image, cfg.NumChannels, cfg.ImageSize, norm)
	if err != nil {
		return err
	}
	keep := cfg.NumKeep(f.ratio)
	var mk model.Masking
	if f.block {
		mk, err = recon.BlockMask(cfg.GridSize(), keep, f.seed)
	} else {
		mk, err = recon.RandomMask(cfg.NumPatches(), keep, f.seed)
	}
	if err != nil {
		return err
	}
	if err := mae.EstimateMemory(cfg, 1, keep, 1, false).Check("reconstructing with this model"); err != nil {
		return err
	}
	res, backendName, err := reconstructOnBackend(f, cfg.ImageSize, norm, img, mk, func(k backend.Kernels) (reconstructor, error) {
		m, err := mae.New(k, cfg)
		if err != nil {
			return nil, err
		}
		if err := m.SetParams(params); err != nil {
			return nil, err
		}
		return recon.NewReconstructor(m, norm)
	})
	if err != nil {
		return err
	}
	about := fmt.Sprintf("%s (%s names, %d px, patch %d), %s, on %s", f.model, format, cfg.ImageSize, cfg.PatchSize, normNote, backendName)
	predNote := ""
	if cfg.NormPixLoss {
		predNote = "norm_pix_loss model: predictions de-normalised with each masked patch's own mean and std (as the official demo)"
	}
	reportReconstruction(f.out, about, imageNote, predNote, res, cfg.NumPatches())
	return nil
}

// reconstructor is a model family's single-image reconstructor.
type reconstructor interface {
	Reconstruct(image []float32, mk model.Masking) (recon.Result, error)
}

// reconstructOnBackend opens the backend of --backend, loads the family's
// model on it with load, reconstructs img under mk and writes the panels
// to --out; it returns the result and the backend's name.
func reconstructOnBackend(f reconstructFlags, imageSize int, norm recon.Norm, img []float32, mk model.Masking,
	load func(k backend.Kernels) (reconstructor, error)) (recon.Result, string, error) {
	k, err := openBackend(f.backend)
	if err != nil {
		return recon.Result{}, "", err
	}
	defer k.Release()
	r, err := load(k)
	if err != nil {
		return recon.Result{}, "", err
	}
	res, err := r.Reconstruct(img, mk)
	if err != nil {
		return recon.Result{}, "", err
	}
	if err := writeStrip(f.out, res, norm, imageSize, f.scale); err != nil {
		return recon.Result{}, "", err
	}
	return res, k.Name(), nil
}

// readReconImage decodes an image file with the given channels, fits it
// to size x size and normalises it with norm; the note says how it was
// fitted ("" when it already was).
func readReconImage(path string, channels, size int, norm recon.Norm) ([]float32, string, error) {
	px, err := train.DecodeFile(path, channels)
	if err != nil {
		return nil, "", err
	}
	img, note, err := px.Fit(size)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	norm.Normalize(img)
	return img, note, nil
}

// reportReconstruction prints what was reconstructed (the model, how the
// image was fitted unless it already was, a note on the prediction if
// any) and where the panels went on stderr, and the masked-patch error on
// stdout.
func reportReconstruction(out, about, imageNote, predNote string, res recon.Result, numPatches int) {
	fmt.Fprintf(os.Stderr, "model: %s\n", about)
	if imageNote != "" {
		fmt.Fprintf(os.Stderr, "image: %s\n", imageNote)
	}
	if predNote != "" {
		fmt.Fprintln(os.Stderr, predNote)
	}
	fmt.Fprintf(os.Stderr, "panels: original | masked | reconstruction | reconstruction + visible, written to %s\n", out)
	fmt.Printf("masked %d of %d patches: masked-patch MSE %.4f (normalised pixels), PSNR %.2f dB\n",
		res.NumMasked(), numPatches, res.MSE, res.PSNR)
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
