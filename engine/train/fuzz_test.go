package train

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

// FuzzReadIDX checks that ReadIDXImages never panics and returns images
// of the announced shape, and that what it accepts survives a write/read
// round trip.
func FuzzReadIDX(f *testing.F) {
	var buf bytes.Buffer
	WriteIDXImages(&buf, [][]uint8{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}, 2, 3)
	f.Add(buf.Bytes())
	raw := []byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 9, 8, 7, 6}
	f.Add(raw)
	f.Add(raw[:18])
	f.Add([]byte{0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 16, 0, 0, 0, 16, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		images, rows, cols, err := ReadIDXImages(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, im := range images {
			if len(im) != rows*cols {
				t.Fatalf("image %d has %d bytes for %dx%d", i, len(im), rows, cols)
			}
		}
		var out bytes.Buffer
		if err := WriteIDXImages(&out, images, rows, cols); err != nil {
			t.Fatal(err)
		}
		again, r2, c2, err := ReadIDXImages(&out)
		if err != nil || r2 != rows || c2 != cols || len(again) != len(images) {
			t.Fatalf("round trip: %d images %dx%d -> %d %dx%d (%v)", len(images), rows, cols, len(again), r2, c2, err)
		}
	})
}

// FuzzDecodeImage checks that decoding any bytes as a png or jpeg and
// converting the result to Pixels never panics, and that the pixels have
// the image's size and the asked channel count. Headers announcing more
// than a megapixel are skipped to keep each run fast.
func FuzzDecodeImage(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(37 * i)
	}
	var p, j, g bytes.Buffer
	png.Encode(&p, img)
	jpeg.Encode(&j, img, nil)
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	gray.Set(1, 1, color.Gray{200})
	png.Encode(&g, gray)
	f.Add(p.Bytes())
	f.Add(j.Bytes())
	f.Add(g.Bytes())
	if b, err := os.ReadFile(imagesDir + "/brick.png"); err == nil && len(b) < 1<<16 {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			return
		}
		im, err := DecodeImage(bytes.NewReader(data))
		if err != nil {
			return
		}
		b := im.Bounds()
		for _, c := range []int{1, 3} {
			px, err := FromImage(im, c)
			if err != nil {
				t.Fatalf("decoded %v image not convertible to %d channels: %v", b, c, err)
			}
			if px.W != b.Dx() || px.H != b.Dy() || px.C != c || len(px.Pix) != px.W*px.H*c {
				t.Fatalf("pixels %dx%dx%d (%d bytes) for a %v image, %d channels", px.W, px.H, px.C, len(px.Pix), b, c)
			}
		}
	})
}
