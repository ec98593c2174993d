// Package bench measures the engine on any backend: matrix-product
// throughput, attention, full training steps and single-image
// reconstruction latency. The `webmae bench` command, `make bench` and the
// browser's /bench page all print its Results, one JSON object each.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// Result is one measurement.
type Result struct {
	Backend string  `json:"backend"`
	Name    string  `json:"name"`           // matmul, train_step, reconstruct, attention
	Shape   string  `json:"shape"`          // e.g. "512x512x512", "tiny b=32"
	Value   float64 `json:"value"`          // in Unit
	Unit    string  `json:"unit"`           // GFLOP/s, images/s, ms
	Reps    int     `json:"reps"`           // timed repetitions
	Seconds float64 `json:"seconds"`        // total timed wall time
	Note    string  `json:"note,omitempty"` // anything a reader needs
}

// JSON renders the result as one line.
func (r Result) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// Ratio compares measurement a with the same measurement b on another
// backend: how many times better a is (higher throughput, or lower time).
func Ratio(a, b Result) Result {
	v := a.Value / b.Value
	if a.Unit == "ms" {
		v = b.Value / a.Value
	}
	return Result{Backend: a.Backend + " vs " + b.Backend, Name: "ratio " + a.Name, Shape: a.Shape, Value: v, Unit: "x",
		Note: fmt.Sprintf("%.4g vs %.4g %s", a.Value, b.Value, a.Unit)}
}

// timeUntil repeats run (after one warm-up call) until at least minTime
// has passed and at least minReps repetitions were made, then waits for
// the device with sync. It returns the repetitions and the elapsed time.
func timeUntil(run func(), sync func() error, minReps int, minTime time.Duration) (int, time.Duration, error) {
	run()
	if err := sync(); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	reps := 0
	for reps < minReps || time.Since(start) < minTime {
		run()
		reps++
		if err := sync(); err != nil {
			return 0, 0, err
		}
	}
	return reps, time.Since(start), nil
}

// Matmul measures an n x n x n float32 matrix product C = A B.
func Matmul(k backend.Kernels, n int, minTime time.Duration) (Result, error) {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	a, b, c := k.NewBuffer(n*n), k.NewBuffer(n*n), k.NewBuffer(n*n)
	host := make([]float32, n*n)
	for i := range host {
		host[i] = rng.Float32() - 0.5
	}
	k.Write(backend.Whole(a), host)
	k.Write(backend.Whole(b), host)
	probe := make([]float32, 1)
	sync := func() error { return k.Read(backend.View{Buf: c, Off: 0, Len: 1}, probe) }
	p := backend.MatMul{M: n, N: n, K: n}
	reps, el, err := timeUntil(func() { k.MatMul(backend.Whole(c), backend.Whole(a), backend.Whole(b), backend.View{}, p) }, sync, 3, minTime)
	if err != nil {
		return Result{}, fmt.Errorf("matmul %d: %w", n, err)
	}
	flops := 2 * float64(n) * float64(n) * float64(n) * float64(reps)
	return Result{Backend: k.Name(), Name: "matmul", Shape: fmt.Sprintf("%dx%dx%d", n, n, n), Value: flops / el.Seconds() / 1e9, Unit: "GFLOP/s", Reps: reps, Seconds: el.Seconds()}, nil
}

// randomBatch makes normal pixels and a ratio-0.75 masking for b images.
func randomBatch(cfg model.Config, b int, seed uint64) ([]float32, model.Masking, error) {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := make([]float32, b*cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	l := cfg.NumPatches()
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, b, l), b, l, cfg.NumKeep(cfg.MaskRatio))
	return img, mk, err
}

// RandomPass returns a freshly initialised model and a pass of batch b
// with a random batch and ratio-0.75 masking set as its inputs: what the
// benchmarks and kernel profiles run.
func RandomPass(k backend.Kernels, cfg model.Config, b int) (*mae.Model, *mae.Pass, error) {
	m, err := mae.NewInit(k, cfg, 1)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.NewPass(b, cfg.NumKeep(cfg.MaskRatio))
	if err != nil {
		return nil, nil, err
	}
	img, mk, err := randomBatch(cfg, b, 3)
	if err != nil {
		return nil, nil, err
	}
	if err := p.SetInputs(img, mk); err != nil {
		return nil, nil, err
	}
	return m, p, nil
}

// TrainStep measures full training steps (forward, backward, AdamW) of a
// freshly initialised model at batch b; the unit is images/s.
func TrainStep(k backend.Kernels, preset string, cfg model.Config, b int, minReps int, minTime time.Duration) (Result, error) {
	m, p, err := RandomPass(k, cfg, b)
	if err != nil {
		return Result{}, err
	}
	step := func() { p.Forward(); p.Backward(); m.AdamW(1e-4) }
	sync := func() error { _, err := p.Loss(); return err }
	reps, el, err := timeUntil(step, sync, minReps, minTime)
	if err != nil {
		return Result{}, fmt.Errorf("train step %s: %w", preset, err)
	}
	return Result{Backend: k.Name(), Name: "train_step", Shape: fmt.Sprintf("%s b=%d", preset, b), Value: float64(reps*b) / el.Seconds(), Unit: "images/s", Reps: reps, Seconds: el.Seconds(),
		Note: fmt.Sprintf("%.1f ms/step", 1000*el.Seconds()/float64(reps))}, nil
}

// Reconstruct measures the latency of one single-image forward pass with
// the prediction read back (what the UI does per slider move).
func Reconstruct(k backend.Kernels, preset string, cfg model.Config, minReps int, minTime time.Duration) (Result, error) {
	m, err := mae.NewInit(k, cfg, 1)
	if err != nil {
		return Result{}, err
	}
	p, err := m.NewPass(1, cfg.NumKeep(cfg.MaskRatio))
	if err != nil {
		return Result{}, err
	}
	img, mk, err := randomBatch(cfg, 1, 4)
	if err != nil {
		return Result{}, err
	}
	var readErr error
	run := func() {
		if err := p.SetInputs(img, mk); err != nil {
			readErr = err
			return
		}
		p.Forward()
		if _, err := p.Prediction(); err != nil {
			readErr = err
		}
	}
	reps, el, err := timeUntil(run, func() error { return readErr }, minReps, minTime)
	if err != nil {
		return Result{}, fmt.Errorf("reconstruct %s: %w", preset, err)
	}
	return Result{Backend: k.Name(), Name: "reconstruct", Shape: preset + " b=1", Value: 1000 * el.Seconds() / float64(reps), Unit: "ms", Reps: reps, Seconds: el.Seconds()}, nil
}

// Attention measures attention forward + backward at the decoder shape of
// a preset (the longest sequence: 1+L tokens) for batch b; unit ms.
func Attention(k backend.Kernels, preset string, cfg model.Config, b int, minTime time.Duration) (Result, error) {
	t, heads, d := 1+cfg.NumPatches(), cfg.DecoderNumAttentionHeads, cfg.DecoderHiddenSize
	rng := rand.New(rand.NewPCG(5, 6))
	host := make([]float32, b*t*3*d)
	for i := range host {
		host[i] = float32(rng.NormFloat64())
	}
	qkv, dqkv := k.NewBuffer(len(host)), k.NewBuffer(len(host))
	out, dout := k.NewBuffer(b*t*d), k.NewBuffer(b*t*d)
	probs := k.NewBuffer(b * heads * t * t)
	k.Write(backend.Whole(qkv), host)
	k.Write(backend.Whole(dout), host[:b*t*d])
	probe := make([]float32, 1)
	run := func() {
		k.Attention(backend.Whole(out), backend.Whole(probs), backend.Whole(qkv), b, t, heads, d/heads)
		k.AttentionBackward(backend.Whole(dqkv), backend.Whole(dout), backend.Whole(qkv), backend.Whole(probs), b, t, heads, d/heads)
	}
	sync := func() error { return k.Read(backend.View{Buf: dqkv, Off: 0, Len: 1}, probe) }
	reps, el, err := timeUntil(run, sync, 3, minTime)
	if err != nil {
		return Result{}, fmt.Errorf("attention %s: %w", preset, err)
	}
	return Result{Backend: k.Name(), Name: "attention_fwd_bwd", Shape: fmt.Sprintf("%s decoder b=%d t=%d heads=%d hd=%d", preset, b, t, heads, d/heads), Value: 1000 * el.Seconds() / float64(reps), Unit: "ms", Reps: reps, Seconds: el.Seconds()}, nil
}

// CallCounter is implemented by backends that count the API calls they
// make (engine/gpu: WebGPU calls, each a Go->JS crossing in the browser).
type CallCounter interface {
	CallCounts() (dispatches, calls int64)
}

// TrainStepRecord splits a training step's wall time (batch b) into
// recording it (Forward, Backward and AdamW issue their kernels: for the
// WebGPU backend the host side, including every Go->JS call in the
// browser), submitting it (k.Submit: in the browser, encoding the recorded
// command list) and waiting for the loss. The value is the recording time
// per step in ms; the note gives the rest and, for a CallCounter, the
// dispatches and calls per step.
func TrainStepRecord(k backend.Kernels, preset string, cfg model.Config, b int, minReps int, minTime time.Duration) (Result, error) {
	m, p, err := RandomPass(k, cfg, b)
	if err != nil {
		return Result{}, err
	}
	var record, submit, wait time.Duration
	var d0, c0 int64
	counter, counts := k.(CallCounter)
	step := func() {
		t := time.Now()
		p.Forward()
		p.Backward()
		m.AdamW(1e-4)
		record += time.Since(t)
	}
	sync := func() error {
		t := time.Now()
		if err := k.Submit(); err != nil {
			return err
		}
		t1 := time.Now()
		submit += t1.Sub(t)
		_, err := p.Loss()
		wait += time.Since(t1)
		return err
	}
	// warm-up outside the counts (timeUntil's first call)
	step()
	if err := sync(); err != nil {
		return Result{}, fmt.Errorf("train step record %s: %w", preset, err)
	}
	record, submit, wait = 0, 0, 0
	if counts {
		d0, c0 = counter.CallCounts()
	}
	start := time.Now()
	reps := 0
	for reps < minReps || time.Since(start) < minTime {
		step()
		if err := sync(); err != nil {
			return Result{}, fmt.Errorf("train step record %s: %w", preset, err)
		}
		reps++
	}
	el := time.Since(start)
	perStep := func(d time.Duration) float64 { return 1000 * d.Seconds() / float64(reps) }
	note := fmt.Sprintf("record %.2f ms + submit %.2f ms + wait %.1f ms per step (record and submit: %.2f%% of the step)",
		perStep(record), perStep(submit), perStep(wait), 100*(record+submit).Seconds()/el.Seconds())
	if counts {
		d1, c1 := counter.CallCounts()
		dn, cn := float64(d1-d0)/float64(reps), float64(c1-c0)/float64(reps)
		note += fmt.Sprintf("; %.0f dispatches and %.0f calls into the device API per step", dn, cn)
	}
	return Result{Backend: k.Name(), Name: "train_step_record", Shape: fmt.Sprintf("%s b=%d", preset, b), Value: perStep(record), Unit: "ms", Reps: reps, Seconds: el.Seconds(), Note: note}, nil
}

// Dispatch measures the cost of one tiny kernel launch: n Zero kernels of
// 64 elements each recorded back to back (one submit), then a read of one
// element; the value is the time per launch in ms. On a software adapter
// this is the floor under every kernel of a training step.
func Dispatch(k backend.Kernels, n int, minTime time.Duration) (Result, error) {
	buf := k.NewBuffer(64 * n)
	probe := make([]float32, 1)
	run := func() {
		for i := 0; i < n; i++ {
			k.Zero(backend.View{Buf: buf, Off: 64 * i, Len: 64})
		}
	}
	sync := func() error { return k.Read(backend.View{Buf: buf, Off: 0, Len: 1}, probe) }
	reps, el, err := timeUntil(run, sync, 3, minTime)
	if err != nil {
		return Result{}, fmt.Errorf("dispatch: %w", err)
	}
	return Result{Backend: k.Name(), Name: "dispatch", Shape: fmt.Sprintf("%d x zero(64)", n), Value: 1000 * el.Seconds() / float64(reps*n), Unit: "ms", Reps: reps, Seconds: el.Seconds(),
		Note: "per kernel launch, including the read-back per repetition"}, nil
}
