package ui

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// reconBaselines are the non-learned baselines of the reconstruction
// shown, on the same image and mask (engine/recon's mean fill and
// inverse-distance interpolation), and the per-patch errors of the error
// map.
type reconBaselines struct {
	Seq       int     // the drawSeq of the reconstruction they belong to
	Mean, IDW float64 // masked-patch MSE, normalised pixel space
	// ModelPatch and IDWPatch are the per-patch MSE (recon.PatchMSE: NaN
	// for visible patches) of the model and of the interpolation.
	ModelPatch, IDWPatch []float64
	IDWTime              time.Duration // the interpolation's wall time, yields included
}

// errSuperseded stops a baseline computation whose reconstruction is no
// longer the one shown.
var errSuperseded = errors.New("superseded by a newer reconstruction")

// computeBaselines measures the mean-fill and inverse-distance baselines
// of the model's result res (its image and mask), with yield passed to
// the interpolation (see recon.InverseDistanceYield).
func computeBaselines(res recon.Result, n recon.Norm, yield func() error) (reconBaselines, error) {
	cfg := model.Config{ImageSize: res.H, PatchSize: res.P, NumChannels: res.C}
	if res.H != res.W {
		return reconBaselines{}, fmt.Errorf("baselines: %dx%d image is not square", res.W, res.H)
	}
	var b reconBaselines
	var err error
	if b.ModelPatch, err = recon.PatchMSE(res); err != nil {
		return b, err
	}
	mean, err := recon.Baseline(recon.BaselineMean, cfg, n, res.Original, res.Mask)
	if err != nil {
		return b, err
	}
	t0 := time.Now()
	img, err := recon.InverseDistanceYield(cfg, res.Original, res.Mask, recon.IDWPower, yield)
	if err != nil {
		return b, err
	}
	idw, err := recon.Compose(cfg, n, res.Original, res.Mask, img)
	if err != nil {
		return b, fmt.Errorf("inverse-distance baseline: %w", err)
	}
	b.IDWTime = time.Since(t0)
	if b.IDWPatch, err = recon.PatchMSE(idw); err != nil {
		return b, err
	}
	b.Mean, b.IDW = mean.MSE, idw.MSE
	return b, nil
}

// beatsInterpolation marks the masked patches where the model's error is
// below the interpolation's, and counts them.
func beatsInterpolation(modelPatch, idwPatch []float64) ([]bool, int) {
	beats := make([]bool, len(modelPatch))
	n := 0
	for i, m := range modelPatch {
		if i < len(idwPatch) && !math.IsNaN(m) && m < idwPatch[i] {
			beats[i] = true
			n++
		}
	}
	return beats, n
}

// unitNote says in one sentence what a masked-patch MSE of the model
// with normalisation n means. Normalised by a data set's own per-channel
// mean and standard deviation, pixels have mean 0 and variance 1 over
// that data set, so predicting its mean colour everywhere (0, the grey of
// the masked view) scores 1 on average over it.
func unitNote(n recon.Norm) string {
	if slices.Equal(n.Mean, recon.ImageNet().Mean) && slices.Equal(n.Std, recon.ImageNet().Std) {
		return "Unit: normalised pixels (each colour channel minus ImageNet's mean, divided by its standard deviation); 0 is perfect, and ImageNet's mean colour everywhere (the masked view's grey) scores about 1.0 on ImageNet's photos."
	}
	return fmt.Sprintf("Unit: normalised pixels (each channel minus the model's mean %s, divided by its standard deviation %s); 0 is perfect, and that mean colour everywhere (the masked view's grey) scores about 1.0 on images with those statistics.",
		listFloats(n.Mean), listFloats(n.Std))
}

// listFloats lists values to three significant digits, "0.5, 0.25".
func listFloats(v []float32) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.3g", x)
	}
	return s
}
