package recon

import (
	"fmt"
	"math"
)

// Patchify turns one image (C, H, W) into L = (H/p)*(W/p) patches of
// p*p*C values each, patches in row-major grid order, each patch vector in
// (row-in-patch, column-in-patch, channel) order with the channel fastest:
// the layout of the kernels and of the official code.
func Patchify(img []float32, c, h, w, p int) ([]float32, error) {
	if err := checkGeometry(len(img), c, h, w, p); err != nil {
		return nil, fmt.Errorf("patchify: %w", err)
	}
	gh, gw := h/p, w/p
	out := make([]float32, len(img))
	i := 0
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw; gx++ {
			for y := gy * p; y < (gy+1)*p; y++ {
				for x := gx * p; x < (gx+1)*p; x++ {
					for ch := 0; ch < c; ch++ {
						out[i] = img[(ch*h+y)*w+x]
						i++
					}
				}
			}
		}
	}
	return out, nil
}

// Unpatchify is the inverse of Patchify: patches (L, p*p*C) to an image
// (C, H, W).
func Unpatchify(patches []float32, c, h, w, p int) ([]float32, error) {
	if err := checkGeometry(len(patches), c, h, w, p); err != nil {
		return nil, fmt.Errorf("unpatchify: %w", err)
	}
	gh, gw := h/p, w/p
	out := make([]float32, len(patches))
	i := 0
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw; gx++ {
			for y := gy * p; y < (gy+1)*p; y++ {
				for x := gx * p; x < (gx+1)*p; x++ {
					for ch := 0; ch < c; ch++ {
						out[(ch*h+y)*w+x] = patches[i]
						i++
					}
				}
			}
		}
	}
	return out, nil
}

func checkGeometry(n, c, h, w, p int) error {
	if c < 1 || h < 1 || w < 1 || p < 1 {
		return fmt.Errorf("bad geometry C=%d H=%d W=%d P=%d", c, h, w, p)
	}
	if h%p != 0 || w%p != 0 {
		return fmt.Errorf("patch size %d does not divide %dx%d", p, h, w)
	}
	if n != c*h*w {
		return fmt.Errorf("%d values, want C*H*W = %d*%d*%d = %d", n, c, h, w, c*h*w)
	}
	return nil
}

// PatchStatsEps is added to the unbiased variance of a patch in the
// norm_pix_loss target, as in the official loss.
const PatchStatsEps = 1e-6

// DenormalizePatches undoes norm_pix_loss on predictions: every row of pred
// (rows x dim) is mapped to pred*sqrt(var+1e-6) + mean with the mean and
// unbiased variance of the same row of target (the patchified image), in
// place. This is what the official demo does to show the predictions of a
// norm_pix_loss model in pixel space.
func DenormalizePatches(pred, target []float32, dim int) {
	for r := 0; r+dim <= len(pred) && r+dim <= len(target); r += dim {
		mean, std := patchStats(target[r : r+dim])
		for j := r; j < r+dim; j++ {
			pred[j] = float32(float64(pred[j])*std + mean)
		}
	}
}

// patchStats returns the mean and sqrt(unbiased variance + 1e-6) of x.
func patchStats(x []float32) (mean, std float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	variance := 0.0
	if len(x) > 1 {
		variance = ss / float64(len(x)-1)
	}
	return mean, math.Sqrt(variance + PatchStatsEps)
}
