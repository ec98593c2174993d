// Package cpuworker is the engine side of the CPU Web Worker
// (cmd/webmae-worker): it answers workermsg requests with the CPU backend
// (engine/cpu), holding one model at a time. It is plain Go, so the whole
// request -> reply path is tested natively; cmd/webmae-worker only moves
// the bytes between it and the worker's message events.
package cpuworker

import (
	"encoding/json"
	"fmt"
	"time"

	"webmae/engine/backend"
	"webmae/engine/bench"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/internal/workermsg"
)

// Engine is the worker's state: the CPU backend and the loaded model.
type Engine struct {
	k   backend.Kernels
	key uint32 // the page's key of the loaded model; 0 for none
	rec *recon.Reconstructor
}

// New returns an engine on the CPU backend with no model.
func New() *Engine { return &Engine{k: cpu.New()} }

// Bounds on OpBench's arguments.
const (
	maxBenchReps = 1000
	maxBenchTime = 10 * time.Minute
)

// Handle answers one encoded request with one encoded reply: OpDone with
// the op's result, or OpError with a one-sentence error (also for bytes
// that are not a request).
func (e *Engine) Handle(req []byte) []byte {
	m, err := workermsg.Decode(req)
	if err == nil {
		var reply workermsg.Message
		if reply, err = e.handle(m); err == nil {
			reply.ID, reply.Op = m.ID, workermsg.OpDone
			return reply.Encode()
		}
	}
	id, _ := workermsg.ID(req)
	return workermsg.Message{ID: id, Op: workermsg.OpError, Text: []byte(err.Error())}.Encode()
}

func (e *Engine) handle(m workermsg.Message) (workermsg.Message, error) {
	switch m.Op {
	case workermsg.OpLoad:
		return workermsg.Message{}, e.load(m)
	case workermsg.OpReconstruct:
		pred, err := e.reconstruct(m)
		return workermsg.Message{Floats: pred}, err
	case workermsg.OpBench:
		res, err := e.bench(m.Text)
		return workermsg.Message{Text: res}, err
	}
	return workermsg.Message{}, fmt.Errorf("op %d is a reply, not a request", m.Op)
}

// load makes the model of an OpLoad request, replacing the loaded one.
func (e *Engine) load(m workermsg.Message) error {
	if m.Model == 0 {
		return fmt.Errorf("load: model key 0 is reserved for no model")
	}
	cfg, err := model.ParseConfig(m.Text)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if total := model.NewLayout(cfg).Total; len(m.Floats) != total {
		return fmt.Errorf("load: %d parameters sent, the config's model has %d", len(m.Floats), total)
	}
	c := cfg.NumChannels
	if len(m.Norm) != 2*c {
		return fmt.Errorf("load: %d normalisation values sent, want a mean and a std for each of %d channels", len(m.Norm), c)
	}
	e.key, e.rec = 0, nil // the old model goes even if the new one fails
	mm, err := mae.New(e.k, cfg)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := mm.SetParams(m.Floats); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	rec, err := recon.NewReconstructor(mm, recon.Norm{Mean: m.Norm[:c], Std: m.Norm[c:]})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	e.key, e.rec = m.Model, rec
	return nil
}

// reconstruct runs the loaded model on one image and returns its patch
// predictions (L, P*P*C), as mae.Pass.Prediction reads them.
func (e *Engine) reconstruct(m workermsg.Message) ([]float32, error) {
	if e.rec == nil || m.Model != e.key {
		return nil, fmt.Errorf("reconstruct: model %d is not loaded in the worker", m.Model)
	}
	cfg := e.rec.Model().Config
	if want := cfg.NumChannels * cfg.ImageSize * cfg.ImageSize; len(m.Floats) != want {
		return nil, fmt.Errorf("reconstruct: the image has %d values, the model takes %d", len(m.Floats), want)
	}
	if len(m.Order) != cfg.NumPatches() {
		return nil, fmt.Errorf("reconstruct: the patch order has %d entries, the model has %d patches", len(m.Order), cfg.NumPatches())
	}
	mk, err := workermsg.MaskingOf(m.Order, int(m.Keep))
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	pass, err := e.rec.Pass(mk.K)
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	if err := pass.SetInputs(m.Floats, mk); err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	pass.Forward()
	pred, err := pass.Prediction()
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	return pred, nil
}

// bench times a one-image reconstruction of a freshly initialised model
// with engine/bench (the /bench page's measurement), returning its Result
// as JSON.
func (e *Engine) bench(args []byte) ([]byte, error) {
	var a workermsg.BenchArgs
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, fmt.Errorf("bench: arguments: %w", err)
	}
	cfg, err := model.ParseConfig(a.Config)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	minTime := time.Duration(a.MinTimeMs) * time.Millisecond
	if a.MinReps < 1 || a.MinReps > maxBenchReps || minTime < 0 || minTime > maxBenchTime {
		return nil, fmt.Errorf("bench: want 1 to %d repetitions and at most %v, got %d and %d ms", maxBenchReps, maxBenchTime, a.MinReps, a.MinTimeMs)
	}
	r, err := bench.Reconstruct(e.k, a.Preset, cfg, a.MinReps, minTime)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return json.Marshal(r)
}
