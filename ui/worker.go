package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/mae"
	"webmae/engine/recon"
	"webmae/internal/workermsg"
)

// The CPU engine in a Web Worker (cmd/webmae-worker): when the page runs on
// the CPU backend, the main view's reconstructions of official-family
// models are computed in the worker, so the page's main thread stays free
// while one runs. The page keeps its model on its own CPU backend (for
// training, the explorer and downloads, which still run in the page) and
// sends the worker a copy of the parameters whenever the model or its
// training step changes.

// engineWorker sends one request to the worker and returns its reply: a
// *workerError for a request the worker refused, a *workerGone when the
// worker itself failed.
type engineWorker interface {
	call(req workermsg.Message) (workermsg.Message, error)
}

// workerError is an error reply of the worker (OpError).
type workerError struct{ msg string }

func (e *workerError) Error() string { return e.msg }

// workerGone is the worker failing: it did not start, stopped, or
// answered something that is not a reply.
type workerGone struct{ err error }

func (e *workerGone) Error() string { return "the CPU worker failed: " + e.err.Error() }
func (e *workerGone) Unwrap() error { return e.err }

// replyOf turns an encoded reply into the reply or its error.
func replyOf(b []byte) (workermsg.Message, error) {
	reply, err := workermsg.Decode(b)
	if err != nil {
		return workermsg.Message{}, &workerGone{err: err}
	}
	if reply.Op == workermsg.OpError {
		return workermsg.Message{}, &workerError{msg: string(reply.Text)}
	}
	return reply, nil
}

// workerRecon runs reconstructions in the worker and remembers which
// model the worker holds: the page's model, at which training step, under
// which key.
type workerRecon struct {
	w     engineWorker
	key   uint32 // the worker's model; 0 for none
	model *mae.Model
	steps int
	input preparedInput // the last image fitted to the model
}

// preparedInput is an image fitted to a model's input (prepare), kept
// while the picture and the model stay: a new mask needs no new resize.
type preparedInput struct {
	pix  *uint8 // the picture's pixels (their first byte)
	lm   *loadedModel
	img  []float32
	note string
}

// prepared returns prepare(lm, pix), computed once per picture and model.
func (r *workerRecon) prepared(lm *loadedModel, pix recon.Pixels) ([]float32, string, error) {
	if len(pix.Pix) > 0 && r.input.lm == lm && r.input.pix == &pix.Pix[0] {
		return r.input.img, r.input.note, nil
	}
	img, note, err := prepare(lm, pix)
	if err != nil {
		return nil, "", err
	}
	r.input = preparedInput{lm: lm, img: img, note: note}
	if len(pix.Pix) > 0 {
		r.input.pix = &pix.Pix[0]
	}
	return img, note, nil
}

// takes reports whether the worker runs j: the main view's
// reconstructions of official-family models (the training preview runs
// beside the training, in the page; the tutorial's family has its own
// model code).
func (r *workerRecon) takes(j reconJob) bool {
	return r != nil && !j.preview && j.lm != nil && j.lm.Tut == nil && j.lm.Model != nil
}

// sync loads lm's model into the worker unless it holds it already.
func (r *workerRecon) sync(lm *loadedModel) error {
	if r.key != 0 && r.model == lm.Model && r.steps == lm.Model.Steps() {
		return nil
	}
	params, err := lm.Model.ReadParams()
	if err != nil {
		return err
	}
	cfg, err := lm.Config.MarshalHF()
	if err != nil {
		return err
	}
	r.key, r.model = 0, nil
	key := nextWorkerKey()
	norm := append(append([]float32(nil), lm.Norm.Mean...), lm.Norm.Std...)
	if _, err := r.w.call(workermsg.Message{Op: workermsg.OpLoad, Model: key, Text: cfg, Floats: params, Norm: norm}); err != nil {
		return fmt.Errorf("load the model into the CPU worker: %w", err)
	}
	r.key, r.model, r.steps = key, lm.Model, lm.Model.Steps()
	return nil
}

// workerKeys counts the models sent to workers (under the session's
// lock), so that a key is never reused; 0 means none.
var workerKeys uint32

func nextWorkerKey() uint32 {
	workerKeys++
	if workerKeys == 0 {
		workerKeys++
	}
	return workerKeys
}

// run reconstructs j in the worker: the page prepares the image (once
// per picture) and the mask, the worker runs the model, the page turns its prediction into the
// four panels exactly as recon.Reconstructor does. The page's steps are
// separated by yieldToPage, so that none makes a long task of the main
// thread.
func (r *workerRecon) run(j reconJob) (reconOutput, error) {
	img, note, err := r.prepared(j.lm, j.pix)
	if err != nil {
		return reconOutput{}, fmt.Errorf("prepare image: %w", err)
	}
	yieldToPage()
	mk, err := j.lm.masking(j.mask)
	if err != nil {
		return reconOutput{}, err
	}
	order, err := workermsg.OrderOf(mk)
	if err != nil {
		return reconOutput{}, err
	}
	if err := r.sync(j.lm); err != nil {
		return reconOutput{}, err
	}
	yieldToPage()
	reply, err := r.w.call(workermsg.Message{Op: workermsg.OpReconstruct, Model: r.key, Floats: img, Keep: uint32(mk.K), Order: order})
	if err != nil {
		return reconOutput{}, fmt.Errorf("reconstruct in the CPU worker: %w", err)
	}
	img = append([]float32(nil), img...) // the result's own Original; the kept one stays for the next mask
	res, err := recon.FromPrediction(j.lm.Config, j.lm.Norm, img, recon.Masked(mk, 0), reply.Floats)
	if err != nil {
		return reconOutput{}, err
	}
	yieldToPage()
	return j.output(res, note)
}

// workerFailed returns the worker's failure in err, nil when err is not
// one (no error, or a refused request): after a failure the page
// computes in the page.
func workerFailed(err error) *workerGone {
	var g *workerGone
	if errors.As(err, &g) {
		return g
	}
	return nil
}

// workerNote ends the backend chip's adapter text while the CPU worker
// reconstructs (cpuNote).
const workerNote = " · reconstructions in a Web Worker"

// dropWorkerNote takes workerNote off the backend chip (the worker failed).
func dropWorkerNote(ctx app.Context) {
	ctx.Dispatch(func(ctx app.Context) {
		var b backendState
		ctx.GetState(stateBackend, &b)
		b.Adapter = strings.TrimSuffix(b.Adapter, workerNote)
		ctx.SetState(stateBackend, b)
	})
}
