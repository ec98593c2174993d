// Package recon reconstructs images with an MAE the way the official demo
// shows them, and holds the host-side image utilities around it:
// normalisation, patchify/unpatchify, decoding-free pixel handling
// (channel conversion, PIL-style resampling, RGBA output), masking helpers
// (random, block-wise, hand-made), the two non-learned baselines and the
// reconstruction metrics.
//
// It is used by `webmae reconstruct`, the trainer's evaluation and the
// browser UI, and compiles for GOOS=js GOARCH=wasm (no cgo, no os).
//
// Conventions. Images are (C, H, W) float32. "Normalised pixel space" is
// the model's input space, (x - mean) / std per channel with x in [0, 1].
// Metrics:
//   - MSE is the mean squared error over every value of the masked
//     patches, in normalised pixel space, between the reconstruction
//     (de-normalised per patch for norm_pix_loss models) and the image.
//   - PSNR is 10 log10(1 / MSE01) dB, where MSE01 is the same mean over the
//     masked patches but on the de-normalised images in [0, 1] scale, the
//     reconstruction clamped to [0, 1] as it is displayed (peak 1). Over a
//     set of images (Meter) both means are pooled over all masked values
//     of all images before the PSNR is taken.
package recon

import (
	"fmt"
	"math"

	"webmae/engine/mae"
	"webmae/engine/model"
)

// Result is the reconstruction of one image: the four panels of the
// official demo in normalised pixel space, (C, H, W) each, and the metrics
// (see the package documentation).
type Result struct {
	C, H, W, P int
	// Original is the input image.
	Original []float32
	// Masked is the input with the removed patches set to 0 (the
	// normalisation mean, gray once de-normalised), as the official demo.
	Masked []float32
	// Recon is the model's prediction for every patch.
	Recon []float32
	// Pasted is the prediction for removed patches and the input for
	// visible ones.
	Pasted []float32
	// Mask holds one entry per patch, true for a removed patch.
	Mask []bool
	// NormPix says the prediction was de-normalised with each target
	// patch's own mean and std (norm_pix_loss models).
	NormPix bool

	MSE  float64 // masked patches, normalised pixel space
	PSNR float64 // dB, masked patches, [0, 1] scale
	// SSE and SSE01 are the sums of squared errors behind MSE and PSNR
	// over NumValues masked values, for pooling over images.
	SSE, SSE01 float64
	NumValues  int
}

// NumMasked is the number of removed patches.
func (r Result) NumMasked() int {
	n := 0
	for _, m := range r.Mask {
		if m {
			n++
		}
	}
	return n
}

// Panels returns the four panels in display order: original, masked,
// reconstruction, reconstruction with visible patches pasted.
func (r Result) Panels() [4][]float32 {
	return [4][]float32{r.Original, r.Masked, r.Recon, r.Pasted}
}

// PanelNames names the panels of Panels.
var PanelNames = [4]string{"original", "masked", "reconstruction", "reconstruction + visible"}

// Compose builds a Result from an image, its mask (one entry per patch of
// cfg's grid, true for removed) and a reconstruction of the whole image
// (C, H, W) in normalised pixel space. Every predictor (the model and the
// baselines) goes through it, so their metrics are computed identically.
func Compose(cfg model.Config, n Norm, image []float32, masked []bool, reconImg []float32) (Result, error) {
	c, s, p := cfg.NumChannels, cfg.ImageSize, cfg.PatchSize
	if err := checkGeometry(len(image), c, s, s, p); err != nil {
		return Result{}, fmt.Errorf("compose: image: %w", err)
	}
	if len(reconImg) != len(image) {
		return Result{}, fmt.Errorf("compose: reconstruction has %d values, image %d", len(reconImg), len(image))
	}
	if len(masked) != cfg.NumPatches() {
		return Result{}, fmt.Errorf("compose: mask has %d patches, model %d", len(masked), cfg.NumPatches())
	}
	if err := n.Validate(c); err != nil {
		return Result{}, fmt.Errorf("compose: %w", err)
	}
	r := Result{C: c, H: s, W: s, P: p, Original: image, Recon: reconImg, Mask: masked,
		Masked: make([]float32, len(image)), Pasted: make([]float32, len(image))}
	g := s / p
	for ch := 0; ch < c; ch++ {
		mean, std := float64(n.Mean[ch]), float64(n.Std[ch])
		for y := 0; y < s; y++ {
			for x := 0; x < s; x++ {
				i := (ch*s+y)*s + x
				if !masked[(y/p)*g+x/p] {
					r.Masked[i], r.Pasted[i] = image[i], image[i]
					continue
				}
				r.Pasted[i] = reconImg[i]
				d := float64(reconImg[i]) - float64(image[i])
				r.SSE += d * d
				a := clamp01(float64(image[i])*std + mean)
				b := clamp01(float64(reconImg[i])*std + mean)
				r.SSE01 += (a - b) * (a - b)
				r.NumValues++
			}
		}
	}
	if r.NumValues > 0 {
		r.MSE = r.SSE / float64(r.NumValues)
		r.PSNR = PSNR(r.SSE01 / float64(r.NumValues))
	}
	return r, nil
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// PSNR converts a mean squared error on the [0, 1] scale to dB (peak 1);
// +Inf for a perfect reconstruction.
func PSNR(mse01 float64) float64 {
	if mse01 <= 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(1/mse01)
}

// FromPrediction builds the Result of one image from the model's patch
// predictions pred (L, P*P*C), as read from mae.Pass.Prediction. With
// norm_pix_loss the predictions are first de-normalised with each target
// patch's mean and unbiased std (+1e-6), as the official demo does.
func FromPrediction(cfg model.Config, n Norm, image []float32, masked []bool, pred []float32) (Result, error) {
	c, s, p := cfg.NumChannels, cfg.ImageSize, cfg.PatchSize
	if len(pred) != cfg.NumPatches()*cfg.PatchDim() {
		return Result{}, fmt.Errorf("prediction has %d values, want %d patches x %d", len(pred), cfg.NumPatches(), cfg.PatchDim())
	}
	pr := append([]float32(nil), pred...)
	if cfg.NormPixLoss {
		target, err := Patchify(image, c, s, s, p)
		if err != nil {
			return Result{}, fmt.Errorf("reconstruct: %w", err)
		}
		DenormalizePatches(pr, target, cfg.PatchDim())
	}
	img, err := Unpatchify(pr, c, s, s, p)
	if err != nil {
		return Result{}, fmt.Errorf("reconstruct: %w", err)
	}
	r, err := Compose(cfg, n, image, masked, img)
	r.NormPix = cfg.NormPixLoss
	return r, err
}

// ReconstructBatch runs pass (which must belong to m) on images
// (B, C, H, W, normalised) with masking mk, and returns one Result per
// image.
func ReconstructBatch(m *mae.Model, pass *mae.Pass, images []float32, mk model.Masking, n Norm) ([]Result, error) {
	cfg := m.Config
	if err := pass.SetInputs(images, mk); err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	pass.Forward()
	pred, err := pass.Prediction()
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	per := cfg.NumChannels * cfg.ImageSize * cfg.ImageSize
	pd := cfg.NumPatches() * cfg.PatchDim()
	out := make([]Result, mk.B)
	for b := range out {
		img := append([]float32(nil), images[b*per:(b+1)*per]...)
		out[b], err = FromPrediction(cfg, n, img, Masked(mk, b), pred[b*pd:(b+1)*pd])
		if err != nil {
			return nil, fmt.Errorf("reconstruct image %d: %w", b, err)
		}
	}
	return out, nil
}

// Reconstructor reconstructs single images with one model, keeping one
// batch-1 mae.Pass per number of kept patches (hand-made masks change it).
type Reconstructor struct {
	m      *mae.Model
	norm   Norm
	passes map[int]*mae.Pass
}

// NewReconstructor returns a Reconstructor for m whose images are
// normalised with n.
func NewReconstructor(m *mae.Model, n Norm) (*Reconstructor, error) {
	if err := n.Validate(m.Config.NumChannels); err != nil {
		return nil, fmt.Errorf("new reconstructor: %w", err)
	}
	return &Reconstructor{m: m, norm: n, passes: map[int]*mae.Pass{}}, nil
}

// Norm is the normalisation of the reconstructor's images.
func (r *Reconstructor) Norm() Norm { return r.norm }

// Model is the model the reconstructor runs.
func (r *Reconstructor) Model() *mae.Model { return r.m }

// Pass returns the batch-1 pass keeping k patches, creating it on first use.
func (r *Reconstructor) Pass(k int) (*mae.Pass, error) {
	if p, ok := r.passes[k]; ok {
		return p, nil
	}
	p, err := r.m.NewPass(1, k)
	if err != nil {
		return nil, err
	}
	r.passes[k] = p
	return p, nil
}

// Reconstruct runs the model on one image (C, H, W, normalised) with the
// masking mk (B = 1) and returns the four panels and metrics.
func (r *Reconstructor) Reconstruct(image []float32, mk model.Masking) (Result, error) {
	if mk.B != 1 {
		return Result{}, fmt.Errorf("reconstruct: masking has %d samples, want 1", mk.B)
	}
	p, err := r.Pass(mk.K)
	if err != nil {
		return Result{}, fmt.Errorf("reconstruct: %w", err)
	}
	res, err := ReconstructBatch(r.m, p, image, mk, r.norm)
	if err != nil {
		return Result{}, err
	}
	return res[0], nil
}

// Meter pools the metrics of many Results (see the package documentation).
type Meter struct {
	SSE, SSE01 float64
	NumValues  int
	Images     int
}

// Add pools one result.
func (m *Meter) Add(r Result) {
	m.SSE += r.SSE
	m.SSE01 += r.SSE01
	m.NumValues += r.NumValues
	m.Images++
}

// MSE is the pooled masked-value MSE in normalised pixel space.
func (m *Meter) MSE() float64 {
	if m.NumValues == 0 {
		return math.NaN()
	}
	return m.SSE / float64(m.NumValues)
}

// PSNR is the PSNR of the pooled [0, 1]-scale MSE.
func (m *Meter) PSNR() float64 {
	if m.NumValues == 0 {
		return math.NaN()
	}
	return PSNR(m.SSE01 / float64(m.NumValues))
}

// Baseline reconstructs image with the named non-learned baseline
// (BaselineMean or BaselineIDW with IDWPower) and returns its Result
// through Compose, the same code path as the model's.
func Baseline(name string, cfg model.Config, n Norm, image []float32, masked []bool) (Result, error) {
	var img []float32
	var err error
	switch name {
	case BaselineMean:
		img, err = MeanFill(cfg, image, masked)
	case BaselineIDW:
		img, err = InverseDistance(cfg, image, masked, IDWPower)
	default:
		return Result{}, fmt.Errorf("unknown baseline %q (have %s, %s)", name, BaselineMean, BaselineIDW)
	}
	if err != nil {
		return Result{}, err
	}
	return Compose(cfg, n, image, masked, img)
}

// MaxStripSide and MaxStripPixels bound the image Strip allocates.
const (
	MaxStripSide   = 1 << 15
	MaxStripPixels = 64_000_000
)

// StripSize returns the width and height of Strip's image for panels of
// w x h pixels, refusing sizes over MaxStripSide or MaxStripPixels.
func StripSize(w, h, gap, scale int) (int, int, error) {
	if scale < 1 || gap < 0 || w < 1 || h < 1 {
		return 0, 0, fmt.Errorf("panels of %dx%d at scale %d with gap %d", w, h, scale, gap)
	}
	if int64(w)*int64(scale) > MaxStripSide || int64(h)*int64(scale) > MaxStripSide || gap > MaxStripSide {
		return 0, 0, fmt.Errorf("panels of %dx%d at scale %d (gap %d) exceed %d pixels a side", w, h, scale, gap, MaxStripSide)
	}
	sw, sh := 4*w*scale+3*gap, h*scale
	if px := int64(sw) * int64(sh); px > MaxStripPixels {
		return 0, 0, fmt.Errorf("a strip of %dx%d pixels is over the %d-megapixel limit (lower the scale)", sw, sh, MaxStripPixels/1_000_000)
	}
	return sw, sh, nil
}

// Strip lays the four panels of r side by side, separated by gap white
// columns, each scaled up scale times (nearest neighbour), as RGBA bytes
// (see ToRGBA). It returns the bytes and the strip's width and height.
func Strip(r Result, n Norm, gap, scale int) ([]uint8, int, int, error) {
	w, h, err := StripSize(r.W, r.H, gap, scale)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("strip: %w", err)
	}
	pw, ph := r.W*scale, r.H*scale
	out := make([]uint8, 4*w*h)
	for i := range out {
		out[i] = 255
	}
	for k, panel := range r.Panels() {
		rgba, err := ToRGBA(panel, r.H, r.W, n)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("strip: %s: %w", PanelNames[k], err)
		}
		x0 := k * (pw + gap)
		for y := 0; y < ph; y++ {
			for x := 0; x < pw; x++ {
				src := 4 * ((y/scale)*r.W + x/scale)
				copy(out[4*(y*w+x0+x):], rgba[src:src+4])
			}
		}
	}
	return out, w, h, nil
}
