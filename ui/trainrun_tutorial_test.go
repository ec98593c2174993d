package ui

import (
	"slices"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/train"
)

// The tutorial preset trains the tutorial's family in the page's run:
// a fresh TutorialTrainConfig model in place of the current one (loss of
// step 12 below that of step 1, with the settings of the e2e test in
// e2e/tests/tutorial.test.mjs), restored from its checkpoint exactly
// (same losses and parameters as the uninterrupted run), and a loaded
// tutorial model is fine-tuned in place by PresetCurrent.
func TestTutorialPresetTrains(t *testing.T) {
	k := cpu.New()
	cur, err := freshModel(k, model.PresetMicro, 0)
	if err != nil {
		t.Fatal(err)
	}
	pix, names := samplePixels(t)
	s := TrainSettings{Preset: PresetTutorial, Batch: 4, Steps: 12, BaseLR: FreshBaseLR, Warmup: 2}
	whole, lm, err := newPageRun(k, s, cur, pix, names, &train.MemStore{})
	if err != nil {
		t.Fatal(err)
	}
	if lm.Tut == nil || lm.Tut.Config != TutorialTrainConfig || lm.Source != "trained in this page from a fresh initialisation" {
		t.Fatalf("the run's model: tutorial %v, source %q", lm.Tut != nil, lm.Source)
	}
	runUntil(t, whole, s.Steps)
	losses := whole.Losses()
	t.Logf("loss step 1 %.4f, step %d %.4f", losses[0], s.Steps, losses[len(losses)-1])
	if !(losses[len(losses)-1] < losses[0]) {
		t.Errorf("loss did not decrease: %v", losses)
	}

	store := &train.MemStore{}
	part, _, err := newPageRun(k, s, cur, pix, names, store)
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, part, 5)
	resumed, settings, err := restoreRun(cpu.New(), store)
	want := s
	want.Preset = PresetCurrent
	if err != nil || settings != want || resumed.Step() != 5 {
		t.Fatalf("restored settings %+v at step %d: %v", settings, resumed.Step(), err)
	}
	back, err := wrapNet(resumed.Net, resumed.Data.Norm, "restored")
	if err != nil || back.Tut == nil {
		t.Fatalf("restored model: %v", err)
	}
	runUntil(t, resumed, s.Steps)
	a, _ := resumed.Net.ReadParams()
	b, _ := whole.Net.ReadParams()
	if !slices.Equal(resumed.Losses(), whole.Losses()) || !slices.Equal(a, b) {
		t.Errorf("resumed run differs: losses %v, uninterrupted %v", resumed.Losses(), whole.Losses())
	}

	// fine-tuning: the trained tutorial model is the current model
	s.Preset, s.Steps = PresetCurrent, 2
	again, lm2, err := newPageRun(k, s, lm, pix, names, &train.MemStore{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Net.(train.TutorialNet).Model != lm.Tut.Model || lm2.Source != "trained in this page from "+lm.Source {
		t.Fatalf("a loaded tutorial model was not fine-tuned in place (source %q)", lm2.Source)
	}
}
