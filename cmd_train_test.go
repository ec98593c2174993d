package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/train"
)

// The train and reconstruct commands end to end on the committed
// fixtures: a short Fashion-MNIST run, a resumed extension of it, and the
// four-panel PNG of a reconstruction with the trained model.
func TestTrainAndReconstructCommands(t *testing.T) {
	out := t.TempDir()
	args := []string{"--preset", "micro", "--image-size", "28", "--patch-size", "4",
		"--data", "fashion-mnist:testdata/fashion-mnist", "--steps", "4", "--batch", "8",
		"--base-lr", "1e-3", "--warmup", "1", "--eval-every", "2", "--eval-images", "16", "--out", out, "--backend", "cpu"}
	if err := runTrain(args); err != nil {
		t.Fatal(err)
	}
	if err := runTrain(args); err == nil || !strings.Contains(err.Error(), "already holds a checkpoint") {
		t.Fatalf("second fresh run: %v", err)
	}
	if err := runTrain([]string{"--data", "fashion-mnist:testdata/fashion-mnist", "--out", out, "--resume", "--steps", "6", "--backend", "cpu"}); err != nil {
		t.Fatal(err)
	}
	run, err := train.InspectCheckpoint(out)
	if err != nil || run.Step != 6 {
		t.Fatalf("checkpoint at step %d: %v", run.Step, err)
	}
	csv, _ := os.ReadFile(filepath.Join(out, train.CSVFileName))
	if n := strings.Count(string(csv), "\n"); n != 7 {
		t.Fatalf("train.csv has %d lines:\n%s", n, csv)
	}

	png1 := filepath.Join(t.TempDir(), "recon.png")
	for _, extra := range [][]string{nil, {"--block", "--ratio", "0.5", "--scale", "2"}} {
		a := append([]string{"--model", out, "--image", "testdata/images/coffee.jpg", "--out", png1, "--seed", "3", "--backend", "cpu"}, extra...)
		if err := runReconstruct(a); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(png1)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := 7 // default magnification: panels of at least 192 px
		if extra != nil {
			s = 2
		}
		if b := img.Bounds(); b.Dx() != 4*28*s+3*4*s || b.Dy() != 28*s {
			t.Fatalf("reconstruction PNG %v", b)
		}
	}
	if err := runReconstruct([]string{"--model", out, "--image", "testdata/fashion-mnist/README.md", "--out", png1}); err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Fatalf("text file as image: %v", err)
	}
}
