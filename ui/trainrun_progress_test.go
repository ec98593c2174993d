package ui

import (
	"testing"
	"time"

	"webmae/engine/cpu"
	"webmae/engine/model"
)

func TestPrepStateText(t *testing.T) {
	for _, c := range []struct {
		p    prepState
		want string
	}{
		{prepState{}, ""},
		{prepState{Stage: prepImages}, "Preparing the training images"},
		{prepState{Stage: prepImages, Done: 3, Total: 11}, "Preparing the training images: 3 of 11"},
		{prepState{Stage: prepCompile, Done: 0, Total: 42}, "Compiling the training pipelines: 0 of 42"},
		{prepState{Stage: prepFirstStep}, "Taking the first step"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

// The clock starts when the loop's first step begins: a resumed run at
// step 40 that takes 2 steps in 8 s runs at 0.25 steps/s, shown as
// seconds per step, whatever the preparation took before.
func TestStepClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := startClock(40, t0)
	if r := c.rate(40, t0.Add(time.Second)); r != 0 {
		t.Errorf("rate before a step: %g", r)
	}
	r := c.rate(42, t0.Add(8*time.Second))
	if r != 0.25 {
		t.Errorf("rate %g, want 0.25", r)
	}
	for _, c := range []struct {
		rate float64
		want string
	}{{0, "– steps/s"}, {0.25, "4.0 s/step"}, {1 / 4.2, "4.2 s/step"}, {0.99, "1.0 s/step"}, {1, "1.0 steps/s"}, {12.34, "12.3 steps/s"}} {
		if got := fmtSpeed(c.rate); got != c.want {
			t.Errorf("fmtSpeed(%g) = %q, want %q", c.rate, got, c.want)
		}
	}
}

// The form's default fine-tunes the loaded model in place; every other
// choice starts a fresh model (and so asks first), at its own defaults.
func TestPresetChoices(t *testing.T) {
	d := DefaultTrainSettings()
	if d.Preset != PresetCurrent || d.ReplacesModel() || d.BaseLR != FineTuneBaseLR || d.Validate() != nil {
		t.Fatalf("default settings %+v", d)
	}
	k := cpu.New()
	cur, err := freshModel(k, model.PresetTiny, 3)
	if err != nil {
		t.Fatal(err)
	}
	cur.Fresh, cur.Source = false, "a loaded model"
	for _, name := range TrainPresets {
		s := PresetDefaults(name)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		lm, source, err := pageRunModel(k, s, cur)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		same := lm == cur
		if same != !s.ReplacesModel() || same != (name == PresetCurrent) {
			t.Errorf("%s: starts from the loaded model %v, replaces it %v", name, same, s.ReplacesModel())
		}
		if want := map[bool]string{true: "a loaded model", false: "a fresh initialisation"}[same]; source != want {
			t.Errorf("%s: source %q, want %q", name, source, want)
		}
		if name != PresetCurrent && s.BaseLR != FreshBaseLR {
			t.Errorf("%s: base lr %g, want %g", name, s.BaseLR, FreshBaseLR)
		}
	}
}
