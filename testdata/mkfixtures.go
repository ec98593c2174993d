//go:build ignore

// mkfixtures writes the small training fixtures under testdata/ from the
// project's shared data (../shared/data): the first 256 Fashion-MNIST
// training images and the first 64 test images as gzip IDX files, and four
// sample photos shrunk to at most 96 pixels wide.
//
//	go run testdata/mkfixtures.go [-shared ../shared/data]
package main

import (
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"

	"webmae/engine/recon"
	"webmae/engine/train"
)

func main() {
	shared := flag.String("shared", "../shared/data", "shared data directory")
	flag.Parse()
	fm := filepath.Join(*shared, "fashion-mnist")
	for _, f := range []struct {
		name string
		n    int
	}{{"train-images-idx3-ubyte.gz", 256}, {"t10k-images-idx3-ubyte.gz", 64}} {
		in, err := os.Open(filepath.Join(fm, f.name))
		if err != nil {
			log.Fatal(err)
		}
		imgs, rows, cols, err := train.ReadIDXImages(in)
		in.Close()
		if err != nil {
			log.Fatal(err)
		}
		out, err := os.Create(filepath.Join("testdata", "fashion-mnist", f.name))
		if err != nil {
			log.Fatal(err)
		}
		if err := train.WriteIDXImages(out, imgs[:f.n], rows, cols); err != nil {
			log.Fatal(err)
		}
		if err := out.Close(); err != nil {
			log.Fatal(err)
		}
	}
	for _, f := range []struct {
		src, dst string
		w        int
	}{{"chelsea.png", "chelsea.png", 90}, {"coffee.png", "coffee.jpg", 72}, {"brick.png", "brick.png", 64}, {"rocket.jpg", "rocket.jpg", 96}} {
		p, err := train.DecodeFile(filepath.Join(*shared, "images", f.src), 3)
		if err != nil {
			log.Fatal(err)
		}
		if f.src == "brick.png" {
			p, _ = p.WithChannels(1)
		}
		h := p.H * f.w / p.W
		small, err := p.Resize(recon.Box{X0: 0, Y0: 0, X1: float64(p.W), Y1: float64(p.H)}, f.w, h, recon.Bicubic)
		if err != nil {
			log.Fatal(err)
		}
		var img image.Image
		if p.C == 1 {
			g := image.NewGray(image.Rect(0, 0, f.w, h))
			for i := range g.Pix {
				g.Pix[i] = uint8(small[i]*255 + 0.5)
			}
			img = g
		} else {
			c := image.NewRGBA(image.Rect(0, 0, f.w, h))
			for y := 0; y < h; y++ {
				for x := 0; x < f.w; x++ {
					v := func(ch int) uint8 { return uint8(small[(ch*h+y)*f.w+x]*255 + 0.5) }
					c.Set(x, y, color.RGBA{v(0), v(1), v(2), 255})
				}
			}
			img = c
		}
		out, err := os.Create(filepath.Join("testdata", "images", f.dst))
		if err != nil {
			log.Fatal(err)
		}
		if filepath.Ext(f.dst) == ".jpg" {
			err = jpeg.Encode(out, img, &jpeg.Options{Quality: 90})
		} else {
			err = png.Encode(out, img)
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := out.Close(); err != nil {
			log.Fatal(err)
		}
	}
}
