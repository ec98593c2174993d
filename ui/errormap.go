package ui

import (
	"fmt"
	"math"
)

// errorMapRGBA draws the per-patch errors (NaN: a visible patch, not
// predicted) of an s x s image with p-pixel patches, g per side, over its
// RGBA picture base: masked patches in heatColor scaled to [0, hi],
// visible patches dimmed, and the patches of outline framed in white. It
// returns the RGBA bytes.
func errorMapRGBA(base []byte, s, g, p int, errs []float64, hi float64, outline []bool) ([]byte, error) {
	if len(base) != 4*s*s || g*p != s || len(errs) != g*g || len(outline) != g*g {
		return nil, fmt.Errorf("error map: %d bytes, %d errors and %d outlines for a %d-px image of %dx%d %d-px patches",
			len(base), len(errs), len(outline), s, g, g, p)
	}
	frame := max(1, p/8) // the outline's width in image pixels
	out := make([]byte, len(base))
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			i := 4 * (y*s + x)
			patch := (y/p)*g + x/p
			v := errs[patch]
			out[i+3] = 255
			if math.IsNaN(v) {
				for c := 0; c < 3; c++ {
					out[i+c] = uint8(0.3*float64(base[i+c]) + 0.7*200)
				}
				continue
			}
			px, py := x%p, y%p
			if outline[patch] && (px < frame || py < frame || px >= p-frame || py >= p-frame) {
				out[i], out[i+1], out[i+2] = 255, 255, 255
				continue
			}
			col := heatColor(v / math.Max(hi, 1e-30))
			out[i], out[i+1], out[i+2] = col[0], col[1], col[2]
		}
	}
	return out, nil
}

// errorScaleMax is the top of the error map's colour scale: the largest
// finite per-patch error (1 when there is none).
func errorScaleMax(errs []float64) float64 {
	hi := 0.0
	for _, v := range errs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			hi = math.Max(hi, v)
		}
	}
	if hi == 0 {
		return 1
	}
	return hi
}

// heatGradientCSS is heatColor's ramp as a CSS gradient, for the legend.
func heatGradientCSS() string {
	s := "linear-gradient(to right"
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c := heatColor(v)
		s += fmt.Sprintf(", rgb(%d,%d,%d) %g%%", c[0], c[1], c[2], v*100)
	}
	return s + ")"
}
