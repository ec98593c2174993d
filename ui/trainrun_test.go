package ui

import (
	"context"
	"errors"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
)

// samplePixels decodes the bundled samples as the page does (RGB).
func samplePixels(t *testing.T) ([]recon.Pixels, []string) {
	t.Helper()
	var pix []recon.Pixels
	var names []string
	for _, s := range Samples {
		f, err := os.Open(filepath.Join("..", "public", "web", "samples", s.File))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		b := img.Bounds()
		p := recon.Pixels{W: b.Dx(), H: b.Dy(), C: 3, Pix: make([]uint8, 0, 3*b.Dx()*b.Dy())}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bb, _ := img.At(x, y).RGBA()
				p.Pix = append(p.Pix, uint8(r>>8), uint8(g>>8), uint8(bb>>8))
			}
		}
		pix = append(pix, p)
		names = append(names, s.Name)
	}
	return pix, names
}

func newMicroRun(t *testing.T, s TrainSettings, store train.Store) *train.Trainer {
	t.Helper()
	m, err := mae.NewInit(cpu.New(), mustPreset(t, s.Preset), s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	pix, names := samplePixels(t)
	run, err := newRun(train.OfficialNet{Model: m}, recon.ImageNet(), s, pix, names, store)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// runUntil runs tr until step stop (then pauses it, as the page's Pause
// button does) or its end.
func runUntil(t *testing.T, tr *train.Trainer, stop int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := tr.Run(ctx, train.Hooks{SaveEvery: saveEvery, OnStep: func(s train.StepInfo) {
		if s.Step == stop {
			cancel()
		}
	}})
	if err != nil && !errors.Is(err, train.ErrInterrupted) {
		t.Fatal(err)
	}
}

// The form's recipe for a fresh micro (the e2e test's run, natively):
// the loss of step 20 is below that of step 1.
func TestTrainRunLearns(t *testing.T) {
	s := PresetDefaults(model.PresetMicro)
	s.Steps = 20
	run := newMicroRun(t, s, &train.MemStore{})
	runUntil(t, run, s.Steps)
	losses := run.Losses()
	first, last := losses[0], losses[len(losses)-1]
	t.Logf("loss step 1 %.4f, step 20 %.4f", first, last)
	if !(last < first) || len(losses) != 20 {
		t.Errorf("loss did not decrease: %g -> %g (%d steps)", first, last, len(losses))
	}
	if len(run.Data.Train) != len(Samples) || max(run.Data.Train[0].W, run.Data.Train[0].H) > train.MemorySide {
		t.Errorf("training set: %d images, first %dx%d", len(run.Data.Train), run.Data.Train[0].W, run.Data.Train[0].H)
	}
}

// A paused run restored from its store continues exactly as the
// uninterrupted run: same losses, same parameters, bit for bit.
func TestTrainRunCheckpointResume(t *testing.T) {
	s := TrainSettings{Preset: model.PresetMicro, Batch: 4, Steps: 6, BaseLR: 0.05, Warmup: 2, Seed: 9}
	whole := newMicroRun(t, s, &train.MemStore{})
	runUntil(t, whole, s.Steps)
	store := &train.MemStore{}
	part := newMicroRun(t, s, store)
	runUntil(t, part, 3)
	resumed, settings, err := restoreRun(cpu.New(), store)
	want := s
	want.Preset = PresetCurrent // restored, its model is the page's
	if err != nil || settings != want || resumed.Step() != 3 {
		t.Fatalf("restored settings %+v at step %d: %v", settings, resumed.Step(), err)
	}
	runUntil(t, resumed, s.Steps)
	if !slices.Equal(resumed.Losses(), whole.Losses()) {
		t.Errorf("losses %v, uninterrupted %v", resumed.Losses(), whole.Losses())
	}
	a, _ := resumed.Net.ReadParams()
	b, _ := whole.Net.ReadParams()
	if !slices.Equal(a, b) {
		t.Error("parameters differ from the uninterrupted run")
	}
	// a damaged checkpoint is an error, not a panic
	data, _, _ := store.Load()
	for _, bad := range [][]byte{data[:len(data)/2], []byte("nope"), {}} {
		damaged := &train.MemStore{}
		damaged.Save(bad)
		if _, _, err := restoreRun(cpu.New(), damaged); err == nil {
			t.Errorf("restored a %d-byte damaged checkpoint", len(bad))
		}
	}
}

func TestTrainSettingsValidate(t *testing.T) {
	if err := DefaultTrainSettings().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := TrainSettings{Preset: "base", Batch: 0, Steps: 0, BaseLR: -1, Warmup: 5}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad settings validated")
	}
	for _, want := range []string{"preset \"base\"", "batch size 0", "steps 0", "base learning rate -1", "warmup 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// A new run starts with a fresh optimizer even on a model trained before,
// and replaces the run saved in the store.
func TestTrainRunFreshOptimizer(t *testing.T) {
	s := TrainSettings{Preset: model.PresetMicro, Batch: 2, Steps: 2, BaseLR: 0.05, Seed: 1}
	store := &train.MemStore{}
	run := newMicroRun(t, s, store)
	runUntil(t, run, s.Steps)
	pix, names := samplePixels(t)
	again, err := newRun(run.Net, run.Data.Norm, s, pix, names, store)
	if err != nil {
		t.Fatal(err)
	}
	if again.Step() != 0 || again.Done() || run.Net.(train.OfficialNet).Steps() != 0 {
		t.Fatalf("new run on a trained model starts at step %d (AdamW step %d)", again.Step(), run.Net.(train.OfficialNet).Steps())
	}
	if _, found, _ := store.Load(); found {
		t.Fatal("the previous run's checkpoint is still saved")
	}
}
