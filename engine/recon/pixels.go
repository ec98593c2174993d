package recon

import (
	"fmt"
	"math"
)

// Pixels is an 8-bit image with C interleaved channels (1: gray, 3: RGB),
// row-major: the value of channel c at (x, y) is Pix[(y*W+x)*C+c]. It is
// the host form of a decoded image before cropping and resizing.
type Pixels struct {
	W, H, C int
	Pix     []uint8
}

// Validate checks the dimensions against the pixel slice.
func (p Pixels) Validate() error {
	if p.W < 1 || p.H < 1 || (p.C != 1 && p.C != 3) {
		return fmt.Errorf("image %dx%d with %d channels (want 1 or 3)", p.W, p.H, p.C)
	}
	if len(p.Pix) != p.W*p.H*p.C {
		return fmt.Errorf("image %dx%dx%d has %d bytes, want %d", p.W, p.H, p.C, len(p.Pix), p.W*p.H*p.C)
	}
	return nil
}

// FromRGBA converts RGBA bytes (a canvas ImageData, or image.RGBA.Pix with
// stride 4*w) to Pixels with c channels: 3 keeps RGB, 1 takes the luma
// L = 0.299 R + 0.587 G + 0.114 B (as PIL's convert("L")). Alpha is
// ignored.
func FromRGBA(rgba []uint8, w, h, c int) (Pixels, error) {
	if w < 1 || h < 1 || len(rgba) != 4*w*h {
		return Pixels{}, fmt.Errorf("RGBA image %dx%d has %d bytes, want %d", w, h, len(rgba), 4*w*h)
	}
	out := Pixels{W: w, H: h, C: c, Pix: make([]uint8, w*h*c)}
	switch c {
	case 3:
		for i := 0; i < w*h; i++ {
			copy(out.Pix[3*i:3*i+3], rgba[4*i:4*i+3])
		}
	case 1:
		for i := 0; i < w*h; i++ {
			out.Pix[i] = luma(rgba[4*i], rgba[4*i+1], rgba[4*i+2])
		}
	default:
		return Pixels{}, fmt.Errorf("cannot convert to %d channels (want 1 or 3)", c)
	}
	return out, nil
}

func luma(r, g, b uint8) uint8 {
	return uint8((299*int(r) + 587*int(g) + 114*int(b) + 500) / 1000)
}

// WithChannels returns the image with c channels: gray is replicated to
// RGB, RGB is reduced to its luma (see FromRGBA). The same image is
// returned when it already has c channels.
func (p Pixels) WithChannels(c int) (Pixels, error) {
	if p.C == c {
		return p, nil
	}
	out := Pixels{W: p.W, H: p.H, C: c, Pix: make([]uint8, p.W*p.H*c)}
	switch {
	case p.C == 1 && c == 3:
		for i, v := range p.Pix {
			out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
		}
	case p.C == 3 && c == 1:
		for i := range out.Pix {
			out.Pix[i] = luma(p.Pix[3*i], p.Pix[3*i+1], p.Pix[3*i+2])
		}
	default:
		return Pixels{}, fmt.Errorf("cannot convert %d channels to %d", p.C, c)
	}
	return out, nil
}

// Filter is a resampling filter.
type Filter int

const (
	// Bicubic is PIL's bicubic filter (a = -0.5), the official MAE
	// augmentation's interpolation (torchvision interpolation=3).
	Bicubic Filter = iota
	// Bilinear is the triangle filter.
	Bilinear
)

func (f Filter) support() float64 {
	if f == Bilinear {
		return 1
	}
	return 2
}

func (f Filter) weight(x float64) float64 {
	x = math.Abs(x)
	if f == Bilinear {
		if x < 1 {
			return 1 - x
		}
		return 0
	}
	const a = -0.5
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// Box is a crop rectangle in source pixel coordinates: [X0, X1) x [Y0, Y1).
type Box struct{ X0, Y0, X1, Y1 float64 }

// taps are the resampling weights of one output coordinate.
type taps struct {
	first int
	w     []float64
}

// coefficients computes PIL's antialiased resampling weights for mapping
// [in0, in1) of an axis of length inSize onto outSize samples: the filter
// is stretched by the downscaling factor, so shrinking averages rather
// than aliases (PIL's ImagingResample).
func coefficients(f Filter, in0, in1 float64, inSize, outSize int) []taps {
	scale := (in1 - in0) / float64(outSize)
	fscale := max(scale, 1)
	support := f.support() * fscale
	out := make([]taps, outSize)
	for i := range out {
		center := in0 + (float64(i)+0.5)*scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), inSize)
		t := taps{first: lo, w: make([]float64, 0, max(hi-lo, 1))}
		total := 0.0
		for x := lo; x < hi; x++ {
			w := f.weight((float64(x) - center + 0.5) / fscale)
			t.w = append(t.w, w)
			total += w
		}
		if total != 0 {
			for j := range t.w {
				t.w[j] /= total
			}
		}
		out[i] = t
	}
	return out
}

// Resize crops box out of p and resamples it to outW x outH with filter f
// (separable, antialiased like PIL's resize with a box), returning a
// (C, outH, outW) image with values in [0, 1] (clamped, as PIL's 8-bit
// result would be, but not quantised).
func (p Pixels) Resize(box Box, outW, outH int, f Filter) ([]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("resize: %w", err)
	}
	if outW < 1 || outH < 1 || !(box.X1 > box.X0) || !(box.Y1 > box.Y0) || box.X0 < 0 || box.Y0 < 0 || box.X1 > float64(p.W) || box.Y1 > float64(p.H) {
		return nil, fmt.Errorf("resize: crop %+v of a %dx%d image to %dx%d is out of range", box, p.W, p.H, outW, outH)
	}
	cx := coefficients(f, box.X0, box.X1, p.W, outW)
	cy := coefficients(f, box.Y0, box.Y1, p.H, outH)
	// Rows of the source the vertical pass needs.
	y0, y1 := p.H, 0
	for _, t := range cy {
		y0 = min(y0, t.first)
		y1 = max(y1, t.first+len(t.w))
	}
	c := p.C
	// Horizontal pass: rows y0..y1 to outW columns, (rows, outW, C).
	tmp := make([]float64, (y1-y0)*outW*c)
	for y := y0; y < y1; y++ {
		row := p.Pix[y*p.W*c : (y+1)*p.W*c]
		dst := tmp[(y-y0)*outW*c : (y-y0+1)*outW*c]
		for x, t := range cx {
			seg := row[t.first*c : (t.first+len(t.w))*c]
			if c == 3 {
				var r, g, b float64
				for j, w := range t.w {
					r += w * float64(seg[3*j])
					g += w * float64(seg[3*j+1])
					b += w * float64(seg[3*j+2])
				}
				dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, b
				continue
			}
			v := 0.0
			for j, w := range t.w {
				v += w * float64(seg[j])
			}
			dst[x] = v
		}
	}
	// Vertical pass, one output row at a time over contiguous source rows.
	out := make([]float32, c*outH*outW)
	acc := make([]float64, outW*c)
	n := outW * c
	for y, t := range cy {
		clear(acc)
		for j, w := range t.w {
			src := tmp[(t.first+j-y0)*n : (t.first+j-y0+1)*n]
			for i, v := range src {
				acc[i] += w * v
			}
		}
		for i, v := range acc {
			x, ch := i/c, i%c
			out[(ch*outH+y)*outW+x] = float32(min(max(v/255, 0), 1))
		}
	}
	return out, nil
}

// CenterSquare is the largest centred square of the image.
func (p Pixels) CenterSquare() Box {
	s := min(p.W, p.H)
	x0, y0 := (p.W-s)/2, (p.H-s)/2
	return Box{float64(x0), float64(y0), float64(x0 + s), float64(y0 + s)}
}

// Fit crops the largest centred square and resizes it (bicubic) to
// size x size: the input preparation of `webmae reconstruct` and the
// browser demo. It returns the (C, size, size) image in [0, 1] and a note
// saying what was done, for display ("" when nothing was).
func (p Pixels) Fit(size int) ([]float32, string, error) {
	box := p.CenterSquare()
	out, err := p.Resize(box, size, size, Bicubic)
	if err != nil {
		return nil, "", err
	}
	var note string
	switch {
	case p.W != p.H && min(p.W, p.H) != size:
		note = fmt.Sprintf("center-cropped %dx%d to %dx%d, resized to %dx%d", p.W, p.H, int(box.X1-box.X0), int(box.Y1-box.Y0), size, size)
	case p.W != p.H:
		note = fmt.Sprintf("center-cropped %dx%d to %dx%d", p.W, p.H, size, size)
	case p.W != size:
		note = fmt.Sprintf("resized %dx%d to %dx%d", p.W, p.H, size, size)
	}
	return out, note, nil
}

// ToRGBA turns a (C, H, W) normalised image into RGBA bytes (alpha 255) for
// a canvas or a PNG: de-normalised with n, clamped to [0, 1], scaled to
// 0..255 and rounded; one channel is shown as gray.
func ToRGBA(img []float32, h, w int, n Norm) ([]uint8, error) {
	c := n.Channels()
	if err := n.Validate(c); err != nil {
		return nil, fmt.Errorf("to RGBA: %w", err)
	}
	if len(img) != c*h*w {
		return nil, fmt.Errorf("to RGBA: %d values, want %d*%d*%d", len(img), c, h, w)
	}
	out := make([]uint8, 4*h*w)
	for i := 0; i < h*w; i++ {
		for k := 0; k < 3; k++ {
			ch := min(k, c-1)
			v := img[ch*h*w+i]*n.Std[ch] + n.Mean[ch]
			out[4*i+k] = toByte(v)
		}
		out[4*i+3] = 255
	}
	return out, nil
}

func toByte(v float32) uint8 {
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}
