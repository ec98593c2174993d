package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/train"
)

// TestPrepareImages runs `webmae prepare-images` on a small tree: a large
// transparent PNG is flattened and shrunk, a tiny one skipped, a text file
// with a .png name reported and skipped, and the written images load as a
// training directory.
func TestPrepareImages(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(src, "animals", "cats"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG := func(path string, w, h int) {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 9, A: uint8(255 * (x % 2))})
			}
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	writePNG(filepath.Join(src, "animals", "cats", "big.png"), 300, 200)
	writePNG(filepath.Join(src, "second.png"), 64, 64)
	writePNG(filepath.Join(src, "tiny.png"), 10, 10)
	if err := os.WriteFile(filepath.Join(src, "notes.png"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runPrepareImages([]string{"--src", src, "--out", out, "--max-side", "96", "--min-side", "32"})
	if err != nil {
		t.Fatal(err)
	}
	big, err := train.DecodeFile(filepath.Join(out, "animals_cats_big.png"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if big.W != 96 || big.H != 64 {
		t.Fatalf("big.png written at %dx%d, want 96x64", big.W, big.H)
	}
	for _, skipped := range []string{"tiny.png", "notes.png"} {
		if _, err := os.Stat(filepath.Join(out, skipped)); err == nil {
			t.Errorf("%s should have been skipped", skipped)
		}
	}
	ds, err := train.LoadDir(out, 3, []string{"second.png"})
	if err != nil || len(ds.Train) != 1 || len(ds.Held) != 1 {
		t.Fatalf("prepared directory as training data: %v", err)
	}
	if err := runPrepareImages([]string{"--src", src, "--out", out, "--background", "red"}); err == nil {
		t.Error("a background that is not R,G,B was accepted")
	}
}
