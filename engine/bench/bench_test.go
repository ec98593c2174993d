package bench

import (
	"testing"
	"time"

	"webmae/engine/cpu"
	"webmae/engine/model"
)

func TestRatio(t *testing.T) {
	fast := Result{Name: "train_step", Value: 60, Unit: "images/s"}
	slow := Result{Name: "train_step", Value: 15, Unit: "images/s"}
	if r := Ratio(fast, slow); r.Value != 4 || r.Unit != "x" {
		t.Errorf("throughput ratio %+v, want 4x", r)
	}
	quick := Result{Name: "reconstruct", Value: 2, Unit: "ms"}
	late := Result{Name: "reconstruct", Value: 10, Unit: "ms"}
	if r := Ratio(quick, late); r.Value != 5 {
		t.Errorf("latency ratio %+v, want 5x (lower time is better)", r)
	}
}

// TestMeasurementsRun runs each measurement once on the CPU backend at the
// smallest shapes: every one returns a positive value in its unit.
func TestMeasurementsRun(t *testing.T) {
	k := cpu.New()
	cfg, err := model.Preset(model.PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	var rs []Result
	add := func(r Result, err error) {
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	add(Matmul(k, 32, time.Millisecond))
	add(Attention(k, "micro", cfg, 1, time.Millisecond))
	add(TrainStep(k, "micro", cfg, 2, 1, time.Millisecond))
	add(Reconstruct(k, "micro", cfg, 1, time.Millisecond))
	for _, r := range rs {
		if !(r.Value > 0) || r.Reps < 1 || r.Unit == "" {
			t.Errorf("%s %s: %+v", r.Name, r.Shape, r)
		}
	}
}
