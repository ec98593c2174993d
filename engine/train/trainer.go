// Package train pretrains an MAE: the data pipeline (png/jpeg decoding,
// Fashion-MNIST IDX, the official augmentation), a fixed held-out split,
// the official learning-rate schedule, the training loop on a mae.Model
// with a serialisable random state, checkpoints with exact resume kept in
// a Store (files, the browser's storage), evaluation against two
// non-learned baselines through the same code path, and the run's reports
// (train.csv, a loss-curve SVG). The command line and the browser page
// both train through Trainer.Run.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// Options are a run's hyper-parameters. They are recorded in the
// checkpoint; a resumed run must use the same ones (Steps may change).
type Options struct {
	Steps  int     `json:"steps"`
	Batch  int     `json:"batch"`
	BaseLR float64 `json:"base_lr"`
	Warmup int     `json:"warmup"`
	Seed   uint64  `json:"seed"`
	// MaskRatio is the training masking ratio (0: the config's).
	MaskRatio float64 `json:"mask_ratio"`
	// EvalEvery evaluates every so many steps (0: only at the end).
	EvalEvery int `json:"eval_every"`
	// EvalImages is the size of the eval set (default 256; Fashion-MNIST
	// uses at most the test set).
	EvalImages int `json:"eval_images"`
	// F16 stores model.safetensors in half precision (checkpoints stay F32).
	F16 bool `json:"f16"`
}

// Defaults.
const (
	DefaultEvalImages      = 256
	DefaultCheckpointEvery = 5 * time.Minute
	evalBatch              = 32
)

func (o *Options) fill(net maskRule) error {
	if o.MaskRatio == 0 {
		o.MaskRatio = net.Geometry().MaskRatio
	}
	if o.EvalImages == 0 {
		o.EvalImages = DefaultEvalImages
	}
	switch {
	case o.Steps < 1:
		return fmt.Errorf("steps %d < 1", o.Steps)
	case o.Batch < 1:
		return fmt.Errorf("batch %d < 1", o.Batch)
	case !(o.BaseLR > 0) || math.IsInf(o.BaseLR, 0):
		return fmt.Errorf("base learning rate %g is not positive", o.BaseLR)
	case o.Warmup < 0:
		return fmt.Errorf("warmup %d < 0", o.Warmup)
	case o.EvalEvery < 0 || o.EvalImages < 1:
		return fmt.Errorf("eval every %d steps on %d images", o.EvalEvery, o.EvalImages)
	}
	if err := net.ValidateRatio(o.MaskRatio); err != nil {
		return fmt.Errorf("mask ratio: %w", err)
	}
	return nil
}

// StepInfo reports one finished training step.
type StepInfo struct {
	Step, Steps  int // steps done, steps of the run
	Loss, LR     float64
	ImagesPerSec float64 // since Run started
	Elapsed      time.Duration
}

// EvalPoint is one evaluation of the model on the eval set.
type EvalPoint struct {
	Step int `json:"step"`
	Metrics
}

// Hooks receive progress and set the run's cadence; every field is
// optional.
type Hooks struct {
	// OnStep is called after each step, without Lock held.
	OnStep func(StepInfo)
	OnEval func(EvalPoint)
	// OnSave is called after each checkpoint with the step it holds.
	OnSave func(step int)
	// CheckpointEvery is the wall time between checkpoints (default 5
	// minutes); a checkpoint is also written at the end and when the
	// context is cancelled.
	CheckpointEvery time.Duration
	// SaveEvery also checkpoints every so many steps (0: never by count).
	SaveEvery int
	// Lock, when set, is held during each step, evaluation and checkpoint
	// encoding: the backend is shared with other work (the page's
	// reconstructions), which takes the same lock.
	Lock sync.Locker
}

// ErrInterrupted is returned (wrapped) by Run when its context is
// cancelled; the checkpoint was saved.
var ErrInterrupted = errors.New("training interrupted")

// Trainer is one training run keeping its checkpoints in a Store.
type Trainer struct {
	Opts Options
	// Net is the model trained: OfficialNet or TutorialNet.
	Net   Net
	Data  *Dataset
	Store Store
	// Eval is the held-out evaluation set; nil when the data hold none out
	// (a MemorySource): such a run is not evaluated.
	Eval *EvalSet
	// Baselines are the baselines' metrics on Eval, by name.
	Baselines map[string]Metrics

	sched     Schedule
	step      int
	src       *rand.PCG // crops, flips and masking noise
	rng       *rand.Rand
	losses    []float32
	lrs       []float32
	evals     []EvalPoint
	pass      Pass
	keep      int // patches kept per image
	evaluator *Evaluator
	perm      []int
	permEpoch int
	saved     int   // step of the checkpoint in Store, -1 if none
	failed    error // a step's failure: the model is not that of a step
}

// trainStream separates the training random stream from the model init.
const trainStream = 0x747261696e // "train"

// New starts a run of a freshly initialised model (seeded with opts.Seed)
// of configuration cfg on backend k. It refuses a store that already
// holds a checkpoint (resume it, or choose another place).
func New(k backend.Kernels, cfg model.Config, ds *Dataset, store Store, opts Options) (*Trainer, error) {
	if err := refuseExisting(store); err != nil {
		return nil, err
	}
	m, err := mae.NewInit(k, cfg, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("new run: %w", err)
	}
	return NewFrom(OfficialNet{m}, ds, store, opts)
}

// NewFrom starts a run that trains m (either family) from its current
// parameters with a fresh AdamW state (step 0, zero moments). Like New it
// refuses a store that already holds a checkpoint.
func NewFrom(m Net, ds *Dataset, store Store, opts Options) (*Trainer, error) {
	if err := refuseExisting(store); err != nil {
		return nil, err
	}
	if err := m.SetOptimizer(mae.OptimizerState{}); err != nil {
		return nil, fmt.Errorf("new run: %w", err)
	}
	return newTrainer(m, ds, store, opts, rand.NewPCG(opts.Seed, trainStream))
}

func refuseExisting(store Store) error {
	_, found, err := store.Load()
	if err != nil {
		return fmt.Errorf("new run: %w", err)
	}
	if found {
		return fmt.Errorf("new run: %s already holds a checkpoint; resume it or choose another place", store)
	}
	return nil
}

func newTrainer(m Net, ds *Dataset, store Store, opts Options, src *rand.PCG) (*Trainer, error) {
	cfg := m.Geometry()
	if err := opts.fill(m); err != nil {
		return nil, fmt.Errorf("training options: %w", err)
	}
	if opts.F16 && m.Family() != FamilyOfficial {
		return nil, fmt.Errorf("training options: half-precision export is for the official family only")
	}
	if ds.Channels != cfg.NumChannels {
		return nil, fmt.Errorf("data set has %d channels, model %d", ds.Channels, cfg.NumChannels)
	}
	if len(ds.Train) == 0 {
		return nil, fmt.Errorf("data set %s has no training images", ds.Source)
	}
	t := &Trainer{Opts: opts, Net: m, Data: ds, Store: store, src: src, rng: rand.New(src), permEpoch: -1, saved: -1,
		sched: Schedule{BaseLR: opts.BaseLR, Batch: opts.Batch, Warmup: opts.Warmup, Steps: opts.Steps}}
	var err error
	t.keep = m.NumKeep(opts.MaskRatio)
	if t.pass, err = m.NewPass(opts.Batch, t.keep); err != nil {
		return nil, err
	}
	if len(ds.Held) == 0 {
		return t, nil
	}
	if t.Eval, err = newEvalSet(ds, m, opts.EvalImages, EvalRatio, EvalMaskSeed); err != nil {
		return nil, err
	}
	if t.evaluator, err = NewEvaluator(m, t.Eval, min(evalBatch, len(t.Eval.Images))); err != nil {
		return nil, err
	}
	return t, nil
}

// Step is the number of steps done.
func (t *Trainer) Step() int { return t.step }

// Done reports whether every step of the run was taken.
func (t *Trainer) Done() bool { return t.step >= t.Opts.Steps }

// Losses is the loss of every step done (a copy).
func (t *Trainer) Losses() []float32 { return append([]float32(nil), t.losses...) }

// Evals are the evaluations so far (a copy).
func (t *Trainer) Evals() []EvalPoint { return append([]EvalPoint(nil), t.evals...) }

// sample returns the training image of global sample index g: the data
// are visited epoch by epoch, each epoch in a permutation drawn from
// (seed, epoch) alone, so the order needs no saved state.
func (t *Trainer) sample(g int) int {
	n := len(t.Data.Train)
	if e := g / n; e != t.permEpoch {
		t.perm = rand.New(rand.NewPCG(t.Opts.Seed, uint64(e))).Perm(n)
		t.permEpoch = e
	}
	return t.perm[g%n]
}

// batch draws the next batch's images (augmented, normalised) and masking.
func (t *Trainer) batch() ([]float32, model.Masking, error) {
	cfg := t.Net.Geometry()
	b, s := t.Opts.Batch, cfg.ImageSize
	// Draw every random choice in order, then resample in parallel: the
	// result does not depend on the number of workers.
	srcs := make([]recon.Pixels, b)
	augs := make([]AugmentParams, b)
	for i := range augs {
		srcs[i] = t.Data.Train[t.sample(t.step*b+i)]
		augs[i] = DrawAugment(t.rng, srcs[i].W, srcs[i].H)
	}
	per := cfg.NumChannels * s * s
	images := make([]float32, b*per)
	errs := make([]error, b)
	var wg sync.WaitGroup
	next := make(chan int, b)
	for i := range b {
		next <- i
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), b) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := ApplyAugment(srcs[i], augs[i], s, t.Data.Norm)
				if err != nil {
					errs[i] = err
					continue
				}
				copy(images[i*per:], img)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, model.Masking{}, err
	}
	l := cfg.NumPatches()
	mk, err := t.Net.Mask(model.RandomNoise(t.rng, b, l), b, t.keep)
	return images, mk, err
}

// takeStep takes one optimisation step: the batch and its masks, forward,
// backward and AdamW are queued and submitted, and only then is the loss
// read (one read-back per step, after the GPU has the whole step). A NaN
// or infinite loss fails the step and the trainer: the update was
// applied, so that state must not be saved or continued.
func (t *Trainer) takeStep() (float32, float64, error) {
	images, mk, err := t.batch()
	if err != nil {
		return 0, 0, fmt.Errorf("step %d: batch: %w", t.step+1, err)
	}
	if err := t.pass.SetInputs(images, mk); err != nil {
		return 0, 0, fmt.Errorf("step %d: %w", t.step+1, err)
	}
	lr := t.sched.LR(t.step)
	t.pass.Forward()
	t.pass.Backward()
	t.Net.AdamW(lr)
	if err := t.Net.Kernels().Submit(); err != nil {
		t.failed = fmt.Errorf("step %d: %w", t.step+1, err)
		return 0, lr, t.failed
	}
	loss, err := t.pass.Loss()
	if err != nil {
		t.failed = fmt.Errorf("step %d: %w", t.step+1, err)
		return 0, lr, t.failed
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		t.failed = fmt.Errorf("step %d: loss is %g (lr %.3g; lower the learning rate); stopped without saving: the last good checkpoint (step %d) is kept in %s",
			t.step+1, loss, lr, t.saved, t.Store)
		return loss, lr, t.failed
	}
	t.step++
	t.losses = append(t.losses, loss)
	t.lrs = append(t.lrs, float32(lr))
	return loss, lr, nil
}

// locked runs f holding l (when set).
func locked(l sync.Locker, f func() error) error {
	if l != nil {
		l.Lock()
		defer l.Unlock()
	}
	return f()
}

// Run trains until Opts.Steps steps are done, evaluating every EvalEvery
// steps and at the end, checkpointing every hooks.CheckpointEvery (and
// hooks.SaveEvery steps) and at the end. When ctx is cancelled it saves a
// checkpoint after the current step and returns an error wrapping
// ErrInterrupted; Run may then be called again. A failed step (a NaN or
// infinite loss, a backend error) stops the run with an error and leaves
// the last checkpoint as it was; the trainer then refuses to run again.
func (t *Trainer) Run(ctx context.Context, hooks Hooks) error {
	if t.failed != nil {
		return fmt.Errorf("the run stopped at a failed step: %w", t.failed)
	}
	every := hooks.CheckpointEvery
	if every <= 0 {
		every = DefaultCheckpointEvery
	}
	if err := t.ComputeBaselines(); err != nil {
		return err
	}
	start, lastSave, first := time.Now(), time.Now(), t.step
	for t.step < t.Opts.Steps {
		if ctx.Err() != nil {
			if err := t.save(hooks, false); err != nil {
				return err
			}
			return fmt.Errorf("%w at step %d; checkpoint saved in %s", ErrInterrupted, t.step, t.Store)
		}
		var loss float32
		var lr float64
		if err := locked(hooks.Lock, func() (err error) { loss, lr, err = t.takeStep(); return err }); err != nil {
			return err
		}
		if hooks.OnStep != nil {
			el := time.Since(start)
			hooks.OnStep(StepInfo{Step: t.step, Steps: t.Opts.Steps, Loss: float64(loss), LR: lr, Elapsed: el,
				ImagesPerSec: float64((t.step-first)*t.Opts.Batch) / el.Seconds()})
		}
		if t.Eval != nil && ((t.Opts.EvalEvery > 0 && t.step%t.Opts.EvalEvery == 0) || t.step == t.Opts.Steps) {
			if err := locked(hooks.Lock, func() error { return t.evaluate(hooks) }); err != nil {
				return err
			}
		}
		due := time.Since(lastSave) >= every || (hooks.SaveEvery > 0 && t.step%hooks.SaveEvery == 0)
		if due && t.step < t.Opts.Steps {
			if err := t.save(hooks, false); err != nil {
				return err
			}
			lastSave = time.Now()
		}
	}
	return t.save(hooks, true)
}

func (t *Trainer) evaluate(hooks Hooks) error {
	m, err := t.evaluator.Evaluate()
	if err != nil {
		return fmt.Errorf("step %d: %w", t.step, err)
	}
	if math.IsNaN(m.MSE) || math.IsInf(m.MSE, 0) {
		return fmt.Errorf("step %d: eval MSE is %g; stopped without saving: the last good checkpoint (step %d) is kept in %s", t.step, m.MSE, t.saved, t.Store)
	}
	p := EvalPoint{Step: t.step, Metrics: m}
	if n := len(t.evals); n > 0 && t.evals[n-1].Step == t.step {
		t.evals[n-1] = p
	} else {
		t.evals = append(t.evals, p)
	}
	if hooks.OnEval != nil {
		hooks.OnEval(p)
	}
	return nil
}

// ComputeBaselines evaluates the baselines on the eval set, once (Run
// calls it; call it earlier to report them first).
func (t *Trainer) ComputeBaselines() error {
	if t.Baselines != nil || t.Eval == nil {
		return nil
	}
	b, err := t.Eval.Baselines()
	if err != nil {
		return err
	}
	t.Baselines = b
	return nil
}

// Evaluate measures the model's current parameters on the eval set.
func (t *Trainer) Evaluate() (Metrics, error) {
	if t.evaluator == nil {
		return Metrics{}, fmt.Errorf("evaluate: the data set %s holds no images out", t.Data.Source)
	}
	return t.evaluator.Evaluate()
}
