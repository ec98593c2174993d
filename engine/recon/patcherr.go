package recon

import (
	"fmt"
	"math"
)

// PatchMSE returns the mean squared error of each patch of r between its
// reconstruction and the image, in normalised pixel space (the unit of
// r.MSE), in grid order; visible patches, which are not predicted, are
// NaN. The masked entries average to r.MSE (every patch has the same
// number of values).
func PatchMSE(r Result) ([]float64, error) {
	if r.P < 1 || r.H%r.P != 0 || r.W%r.P != 0 {
		return nil, fmt.Errorf("patch errors: %dx%d image with %d-px patches", r.W, r.H, r.P)
	}
	gh, gw := r.H/r.P, r.W/r.P
	n := r.C * r.H * r.W
	if len(r.Original) != n || len(r.Pasted) != n || len(r.Mask) != gh*gw {
		return nil, fmt.Errorf("patch errors: result of %d/%d values and %d mask entries for %dx%dx%d", len(r.Original), len(r.Pasted), len(r.Mask), r.C, r.H, r.W)
	}
	sums := make([]float64, gh*gw)
	for ch := 0; ch < r.C; ch++ {
		for y := 0; y < r.H; y++ {
			for x := 0; x < r.W; x++ {
				i := (ch*r.H+y)*r.W + x
				d := float64(r.Pasted[i]) - float64(r.Original[i])
				sums[(y/r.P)*gw+x/r.P] += d * d
			}
		}
	}
	per := float64(r.C * r.P * r.P)
	for i := range sums {
		if r.Mask[i] {
			sums[i] /= per
		} else {
			sums[i] = math.NaN()
		}
	}
	return sums, nil
}
