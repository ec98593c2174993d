package recon

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/model"
)

// directIDW is the definition of baseline (b) summed pixel by pixel: the
// reference the FFT implementation is checked against.
func directIDW(cfg model.Config, image []float32, masked []bool, power float64) []float32 {
	c, s, p := cfg.NumChannels, cfg.ImageSize, cfg.PatchSize
	g := s / p
	out := append([]float32(nil), image...)
	for h := 0; h < s*s; h++ {
		if !masked[(h/s/p)*g+(h%s)/p] {
			continue
		}
		total, acc := 0.0, make([]float64, c)
		for v := 0; v < s*s; v++ {
			if masked[(v/s/p)*g+(v%s)/p] {
				continue
			}
			dy, dx := float64(v/s-h/s), float64(v%s-h%s)
			w := math.Pow(dy*dy+dx*dx, -power/2)
			total += w
			for ch := 0; ch < c; ch++ {
				acc[ch] += w * float64(image[ch*s*s+v])
			}
		}
		for ch := 0; ch < c; ch++ {
			out[ch*s*s+h] = float32(acc[ch] / total)
		}
	}
	return out
}

// TestInverseDistanceMatchesDirectSum compares the FFT convolution with
// the direct sum over shapes with odd grids, one and three channels,
// sparse and dense masks and every power used. The FFT's float64
// rounding is about 1e-16 of the kernel's total weight (~6); the
// smallest denominator here (a pixel 3 patches from any visible one) is
// above 1e-5, so relative errors stay below 1e-9 before the float32
// rounding of the output: 2^-23 relative + 1e-7 absolute covers it.
func TestInverseDistanceMatchesDirectSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, tc := range []struct{ size, patch, ch int }{{28, 4, 1}, {32, 8, 3}, {36, 4, 3}, {48, 16, 3}} {
		for _, ratio := range []float64{0.1, 0.75, 0.95} {
			for _, power := range []float64{2, IDWPower} {
				cfg := model.Config{ImageSize: tc.size, PatchSize: tc.patch, NumChannels: tc.ch}
				img := make([]float32, tc.ch*tc.size*tc.size)
				for i := range img {
					img[i] = float32(rng.NormFloat64())
				}
				masked := make([]bool, cfg.NumPatches())
				nMask := min(int(float64(len(masked))*ratio), len(masked)-1)
				for _, i := range rng.Perm(len(masked))[:nMask] {
					masked[i] = true
				}
				got, err := InverseDistance(cfg, img, masked, power)
				if err != nil {
					t.Fatal(err)
				}
				want := directIDW(cfg, img, masked, power)
				for i := range want {
					tol := 1.2e-7*math.Abs(float64(want[i])) + 1e-7
					if d := math.Abs(float64(got[i] - want[i])); d > tol {
						t.Fatalf("%+v ratio %v power %v: pixel %d: got %v want %v", tc, ratio, power, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestFFTSize(t *testing.T) {
	for m, want := range map[int]int{1: 1, 7: 8, 55: 60, 127: 128, 447: 450} {
		if got := fftSize(m); got != want {
			t.Errorf("fftSize(%d) = %d, want %d", m, got, want)
		}
	}
}
