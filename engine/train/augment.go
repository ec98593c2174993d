package train

import (
	"math"
	"math/rand/v2"

	"webmae/engine/recon"
)

// Augmentation of the official MAE pretraining:
// RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3/4, 4/3),
// interpolation=bicubic), RandomHorizontalFlip(0.5), Normalize.
const (
	CropScaleMin = 0.2
	CropScaleMax = 1.0
	CropRatioMin = 3.0 / 4
	CropRatioMax = 4.0 / 3
)

// CropBox draws a random-resized-crop box of an image w x h exactly as
// torchvision's RandomResizedCrop.get_params does: up to 10 tries of an
// area fraction uniform in [0.2, 1] and a log-uniform aspect ratio in
// [3/4, 4/3], a uniformly placed integer box that fits; otherwise the
// centred crop clamped to the ratio range.
func CropBox(rng *rand.Rand, w, h int) recon.Box {
	area := float64(w * h)
	logLo, logHi := math.Log(CropRatioMin), math.Log(CropRatioMax)
	for try := 0; try < 10; try++ {
		target := area * (CropScaleMin + rng.Float64()*(CropScaleMax-CropScaleMin))
		aspect := math.Exp(logLo + rng.Float64()*(logHi-logLo))
		cw := int(math.Round(math.Sqrt(target * aspect)))
		ch := int(math.Round(math.Sqrt(target / aspect)))
		if cw > 0 && ch > 0 && cw <= w && ch <= h {
			top := rng.IntN(h - ch + 1)
			left := rng.IntN(w - cw + 1)
			return recon.Box{X0: float64(left), Y0: float64(top), X1: float64(left + cw), Y1: float64(top + ch)}
		}
	}
	cw, ch := w, h
	if r := float64(w) / float64(h); r < CropRatioMin {
		ch = int(math.Round(float64(w) / CropRatioMin))
	} else if r > CropRatioMax {
		cw = int(math.Round(float64(h) * CropRatioMax))
	}
	top, left := (h-ch)/2, (w-cw)/2
	return recon.Box{X0: float64(left), Y0: float64(top), X1: float64(left + cw), Y1: float64(top + ch)}
}

// AugmentParams are the random choices of one augmented image.
type AugmentParams struct {
	Box  recon.Box
	Flip bool
}

// DrawAugment draws the augmentation of a w x h image from rng in a fixed
// order: the crop (CropBox), then the flip (probability 0.5).
func DrawAugment(rng *rand.Rand, w, h int) AugmentParams {
	box := CropBox(rng, w, h)
	return AugmentParams{Box: box, Flip: rng.Float64() < 0.5}
}

// ApplyAugment produces the normalised training image (C, size, size) of
// p: the crop resized with PIL-style antialiased bicubic resampling (see
// recon.Pixels.Resize), flipped if drawn, normalised with n.
func ApplyAugment(p recon.Pixels, a AugmentParams, size int, n recon.Norm) ([]float32, error) {
	img, err := p.Resize(a.Box, size, size, recon.Bicubic)
	if err != nil {
		return nil, err
	}
	if a.Flip {
		FlipHorizontal(img, p.C, size, size)
	}
	return n.Normalize(img), nil
}

// Augment is the official augmentation of one image: DrawAugment then
// ApplyAugment. A seeded rng gives the same image.
func Augment(rng *rand.Rand, p recon.Pixels, size int, n recon.Norm) ([]float32, error) {
	return ApplyAugment(p, DrawAugment(rng, p.W, p.H), size, n)
}

// FlipHorizontal mirrors a (C, H, W) image left-right in place.
func FlipHorizontal(img []float32, c, h, w int) {
	for row := 0; row < c*h; row++ {
		r := img[row*w : (row+1)*w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
}
