package train

import "math"

// Schedule is the official MAE learning-rate schedule, per step: a linear
// warmup from 0 over Warmup steps, then a half-cycle cosine decay to MinLR
// at Steps; the peak is BaseLR * Batch / 256 (the linear scaling rule).
type Schedule struct {
	BaseLR float64
	Batch  int
	Warmup int
	Steps  int
	MinLR  float64
}

// Peak is the learning rate at the end of warmup.
func (s Schedule) Peak() float64 { return s.BaseLR * float64(s.Batch) / 256 }

// LR is the learning rate of step (0-based), as
// util/lr_sched.adjust_learning_rate computes it from the fractional epoch.
func (s Schedule) LR(step int) float64 {
	peak := s.Peak()
	if step < s.Warmup {
		return peak * float64(step) / float64(s.Warmup)
	}
	span := s.Steps - s.Warmup
	if span <= 0 {
		return peak
	}
	t := math.Min(float64(step-s.Warmup)/float64(span), 1)
	return s.MinLR + (peak-s.MinLR)*0.5*(1+math.Cos(math.Pi*t))
}
