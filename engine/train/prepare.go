package train

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"webmae/engine/recon"
)

// Flatten composites an image with transparency over a solid background
// colour and returns its RGB pixels: out = a*c + (1-a)*bg per channel, with
// c the non-premultiplied colour (clip art's transparent areas would
// otherwise keep whatever colour their invisible pixels hold).
func Flatten(img image.Image, bg color.RGBA) recon.Pixels {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := recon.Pixels{W: w, H: h, C: 3, Pix: make([]uint8, 3*w*h)}
	bgc := [3]float64{float64(bg.R), float64(bg.G), float64(bg.B)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			a := float64(c.A) / 255
			i := 3 * (y*w + x)
			for k, v := range [3]uint8{c.R, c.G, c.B} {
				p.Pix[i+k] = uint8(math.Round(a*float64(v) + (1-a)*bgc[k]))
			}
		}
	}
	return p
}

// Shrink downscales p (antialiased bicubic, as the training crops) so that
// its longer side is at most maxSide pixels, keeping the aspect ratio; an
// image that already fits is returned as it is.
func Shrink(p recon.Pixels, maxSide int) (recon.Pixels, error) {
	if maxSide < 1 {
		return recon.Pixels{}, fmt.Errorf("shrink: max side %d must be positive", maxSide)
	}
	if max(p.W, p.H) <= maxSide {
		return p, nil
	}
	scale := float64(maxSide) / float64(max(p.W, p.H))
	w := max(1, int(math.Round(float64(p.W)*scale)))
	h := max(1, int(math.Round(float64(p.H)*scale)))
	img, err := p.Resize(recon.Box{X1: float64(p.W), Y1: float64(p.H)}, w, h, recon.Bicubic)
	if err != nil {
		return recon.Pixels{}, fmt.Errorf("shrink: %w", err)
	}
	out := recon.Pixels{W: w, H: h, C: p.C, Pix: make([]uint8, len(img))}
	for i := 0; i < w*h; i++ {
		for k := 0; k < p.C; k++ {
			out.Pix[p.C*i+k] = uint8(math.Round(float64(img[k*w*h+i]) * 255))
		}
	}
	return out, nil
}
