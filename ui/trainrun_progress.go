package ui

import (
	"fmt"
	"time"
)

// prepStage is what the preparation of a run is doing.
type prepStage int

const (
	prepNone      prepStage = iota
	prepImages              // loading the training images (the samples not loaded yet)
	prepBuild               // building the run: the model, the images shrunk, the optimizer
	prepRestore             // restoring the saved run from storage
	prepRecover             // restoring the run on the CPU after a device loss
	prepCompile             // compiling the training step's GPU pipelines
	prepFirstStep           // the first step is being taken
)

// prepState is the preparation's progress, shown on the training card:
// Done of Total where the stage counts (Total 0: not counted).
type prepState struct {
	Stage       prepStage
	Done, Total int
}

// String is the card's line for the preparation ("" when none).
func (p prepState) String() string {
	text := [...]string{"", "Preparing the training images", "Building the run", "Restoring the saved run",
		"Restoring the run on the CPU", "Compiling the training pipelines", "Taking the first step"}[p.Stage]
	if p.Total > 0 && p.Stage != prepNone {
		text += fmt.Sprintf(": %d of %d", p.Done, p.Total)
	}
	return text
}

// stepClock measures a loop's speed from the moment its first step
// begins, after the preparation, so steps/s and time left leave the
// preparation out.
type stepClock struct {
	step0 int
	t0    time.Time
}

func startClock(step int, now time.Time) stepClock { return stepClock{step0: step, t0: now} }

// rate is the steps per second from the clock's start to step, done at
// now (0 before a step is done).
func (c stepClock) rate(step int, now time.Time) float64 {
	el := now.Sub(c.t0).Seconds()
	if step <= c.step0 || el <= 0 {
		return 0
	}
	return float64(step-c.step0) / el
}

// fmtSpeed is a loop's speed for the card: steps per second, or seconds
// per step below one step per second ("4.2 s/step"); "–" while unknown.
func fmtSpeed(rate float64) string {
	switch {
	case !(rate > 0):
		return "– steps/s"
	case rate < 1:
		return fmt.Sprintf("%.1f s/step", 1/rate)
	}
	return fmtRate(rate) + " steps/s"
}
