package ui

import (
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

func newMicroRun(t *testing.T, s TrainSettings) *trainRun {
	t.Helper()
	m, err := mae.NewInit(cpu.New(), mustPreset(t, s.Preset), s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	pix, names := samplePixels(t)
	run, err := newTrainRun(m, recon.ImageNet(), s, pix, names)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// The page's default recipe on micro (the e2e test's run, natively):
// the loss of step 20 is below that of step 1.
func TestTrainRunLearns(t *testing.T) {
	s := DefaultTrainSettings()
	s.Steps = 20
	run := newMicroRun(t, s)
	for !run.Done() {
		if _, err := run.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	first, last := run.Losses[0], run.Losses[len(run.Losses)-1]
	t.Logf("loss step 1 %.4f, step 20 %.4f", first, last)
	if !(last < first) {
		t.Errorf("loss did not decrease: %g -> %g", first, last)
	}
	if len(run.Images) != len(Samples) || max(run.Images[0].W, run.Images[0].H) > TrainSide {
		t.Errorf("training set: %d images, first %dx%d", len(run.Images), run.Images[0].W, run.Images[0].H)
	}
}

// A run restored from a checkpoint continues exactly as the uninterrupted
// run: same losses, same parameters, bit for bit.
func TestTrainRunCheckpointResume(t *testing.T) {
	s := TrainSettings{Preset: model.PresetMicro, Batch: 4, Steps: 6, BaseLR: 0.05, Warmup: 2, Seed: 9}
	whole := newMicroRun(t, s)
	for !whole.Done() {
		if _, err := whole.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	part := newMicroRun(t, s)
	for i := 0; i < 3; i++ {
		if _, err := part.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := part.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	info, _, _, err := readCheckpoint(data)
	if err != nil || info.Step != 3 || info.Settings != s || info.Loss != part.Losses[2] {
		t.Fatalf("checkpoint info %+v, err %v", info, err)
	}
	resumed, err := restoreRun(cpu.New(), data)
	if err != nil {
		t.Fatal(err)
	}
	for !resumed.Done() {
		if _, err := resumed.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(resumed.Losses, whole.Losses) {
		t.Errorf("losses %v, uninterrupted %v", resumed.Losses, whole.Losses)
	}
	a, _ := resumed.Model.ReadParams()
	b, _ := whole.Model.ReadParams()
	if !slices.Equal(a, b) {
		t.Error("parameters differ from the uninterrupted run")
	}
	// a damaged checkpoint is an error, not a panic
	for _, bad := range [][]byte{data[:len(data)/2], []byte("nope"), nil} {
		if _, err := restoreRun(cpu.New(), bad); err == nil {
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

// A new run starts with a fresh optimizer even on a model trained before.
func TestTrainRunFreshOptimizer(t *testing.T) {
	s := TrainSettings{Preset: model.PresetMicro, Batch: 2, Steps: 2, BaseLR: 0.05, Seed: 1}
	run := newMicroRun(t, s)
	for !run.Done() {
		if _, err := run.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	pix, names := samplePixels(t)
	again, err := newTrainRun(run.Model, run.Norm, s, pix, names)
	if err != nil {
		t.Fatal(err)
	}
	if again.Step() != 0 || again.Done() {
		t.Fatalf("new run on a trained model starts at step %d", again.Step())
	}
}
