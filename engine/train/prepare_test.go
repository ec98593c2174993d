package train

import (
	"image"
	"image/color"
	"testing"

	"webmae/engine/recon"
)

func TestFlattenCompositesOverTheBackground(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 3, 1))
	img.SetNRGBA(0, 0, color.NRGBA{R: 200, G: 100, B: 0, A: 255}) // opaque: kept
	img.SetNRGBA(1, 0, color.NRGBA{R: 0, G: 0, B: 0, A: 0})       // transparent black: background
	img.SetNRGBA(2, 0, color.NRGBA{R: 0, G: 0, B: 255, A: 128})   // half: blended
	p := Flatten(img, color.RGBA{R: 255, G: 255, B: 255, A: 255})
	want := []uint8{200, 100, 0, 255, 255, 255, 127, 127, 255}
	if p.W != 3 || p.H != 1 || p.C != 3 {
		t.Fatalf("size %dx%dx%d", p.W, p.H, p.C)
	}
	for i, v := range want {
		if p.Pix[i] != v {
			t.Fatalf("pixels %v, want %v", p.Pix, want)
		}
	}
}

func TestShrinkKeepsAspectAndValues(t *testing.T) {
	p := recon.Pixels{W: 400, H: 100, C: 3, Pix: make([]uint8, 400*100*3)}
	for i := range p.Pix {
		p.Pix[i] = 77
	}
	s, err := Shrink(p, 160)
	if err != nil {
		t.Fatal(err)
	}
	if s.W != 160 || s.H != 40 {
		t.Fatalf("shrunk to %dx%d, want 160x40", s.W, s.H)
	}
	for _, v := range s.Pix {
		if v != 77 { // a constant image stays constant under the normalised filter
			t.Fatalf("value %d, want 77", v)
		}
	}
	same, err := Shrink(p, 400)
	if err != nil || same.W != 400 {
		t.Fatalf("an image that fits should be kept: %dx%d, %v", same.W, same.H, err)
	}
	if _, err := Shrink(p, 0); err == nil {
		t.Fatal("max side 0 accepted")
	}
}
