package main

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
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
	info, found, err := train.ReadInfo(train.DirStore{Dir: out})
	if err != nil || !found || info.Step != 6 {
		t.Fatalf("checkpoint at step %d: %v", info.Step, err)
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

// A run trained in the page (its images in the checkpoint) resumes on the
// command line without --data; a run on a data set on disk needs it.
func TestTrainResumesAPageRun(t *testing.T) {
	src := train.MemorySource{Name: "images in the page", Norm: recon.ImageNet()}
	for _, name := range []string{"coffee.jpg", "rocket.jpg"} {
		p, err := train.DecodeFile(filepath.Join("testdata/images", name), 3)
		if err != nil {
			t.Fatal(err)
		}
		src.Images, src.Names = append(src.Images, p), append(src.Names, name)
	}
	ds, err := src.Load(3)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := model.Preset(model.PresetMicro)
	out := t.TempDir()
	store := train.DirStore{Dir: out}
	tr, err := train.New(cpu.New(), cfg, ds, &train.MemStore{}, train.Options{Steps: 2, Batch: 2, BaseLR: 0.05, Warmup: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), train.Hooks{}); err != nil {
		t.Fatal(err)
	}
	data, _, _ := tr.Store.Load()
	if err := store.Save(data); err != nil {
		t.Fatal(err)
	}
	if err := runTrain([]string{"--out", out, "--resume", "--steps", "3", "--backend", "cpu"}); err != nil {
		t.Fatal(err)
	}
	info, _, err := train.ReadInfo(store)
	if err != nil || info.Step != 3 || !info.Embedded {
		t.Fatalf("after resuming: step %d, embedded %v, %v", info.Step, info.Embedded, err)
	}
	for _, f := range []string{model.ModelFileName, train.CSVFileName} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Fatal(err)
		}
	}

	fashion := t.TempDir()
	if err := runTrain([]string{"--preset", "micro", "--image-size", "28", "--patch-size", "4",
		"--data", "fashion-mnist:testdata/fashion-mnist", "--steps", "1", "--batch", "4", "--eval-images", "4",
		"--out", fashion, "--backend", "cpu"}); err != nil {
		t.Fatal(err)
	}
	if err := runTrain([]string{"--out", fashion, "--resume", "--steps", "2", "--backend", "cpu"}); err == nil || !strings.Contains(err.Error(), "give it with --data") {
		t.Fatalf("resumed a run without its data: %v", err)
	}
}

// --stop-after stops a run at a step with its checkpoint saved and exits
// without error; --resume continues it exactly, here with a different
// --steps (the multi-stage recipe of `make pretrain`): the stages give the
// same model as the uninterrupted run of the same schedule.
func TestTrainStopAfterStagesAreExact(t *testing.T) {
	base := []string{"--preset", "micro", "--image-size", "28", "--patch-size", "4",
		"--data", "fashion-mnist:testdata/fashion-mnist", "--batch", "8",
		"--base-lr", "1e-3", "--warmup", "1", "--eval-every", "0", "--eval-images", "16", "--backend", "cpu"}
	whole, staged := t.TempDir(), t.TempDir()
	run := func(extra ...string) {
		t.Helper()
		if err := runTrain(append(append([]string{}, base...), extra...)); err != nil {
			t.Fatal(err)
		}
	}
	// The recipe: a 2-step run; its warm restart to a 6-step schedule,
	// stopped after step 4; continued to the end of a 5-step schedule.
	run("--steps", "2", "--out", whole)
	run("--steps", "6", "--resume", "--out", whole, "--stop-after", "4")
	info, _, err := train.ReadInfo(train.DirStore{Dir: whole})
	if err != nil || info.Step != 4 {
		t.Fatalf("after --stop-after 4: step %d, %v", info.Step, err)
	}
	run("--steps", "6", "--resume", "--out", whole, "--stop-after", "4") // already there: nothing to do
	run("--steps", "5", "--resume", "--out", whole)

	// The same recipe with one more stop (after step 3) in the middle stage.
	run("--steps", "2", "--out", staged)
	run("--steps", "6", "--resume", "--out", staged, "--stop-after", "3")
	run("--steps", "6", "--resume", "--out", staged, "--stop-after", "4")
	run("--steps", "5", "--resume", "--out", staged)

	a, errA := os.ReadFile(filepath.Join(whole, "model.safetensors"))
	b, errB := os.ReadFile(filepath.Join(staged, "model.safetensors"))
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if string(a) != string(b) {
		t.Fatal("the staged run's model differs from the one stopped once")
	}
	if err := runTrain(append(append([]string{}, base...), "--steps", "2", "--out", t.TempDir(), "--stop-after", "-1")); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("--stop-after -1: %v", err)
	}
}
