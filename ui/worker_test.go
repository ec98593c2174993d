package ui

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/internal/cpuworker"
	"webmae/internal/workermsg"
)

// inProcess is the worker's engine called directly: every request and
// reply still goes through its encoding, only postMessage is left out.
type inProcess struct {
	e     *cpuworker.Engine
	loads int
}

func (p *inProcess) call(req workermsg.Message) (workermsg.Message, error) {
	if req.Op == workermsg.OpLoad {
		p.loads++
	}
	return replyOf(p.e.Handle(req.Encode()))
}

// The worker's reconstruction is the page's, value for value: the same
// panels and metrics; the model is sent again only after it changed.
func TestWorkerReconMatchesPage(t *testing.T) {
	lm, err := freshModel(cpu.New(), model.PresetMicro, 3)
	if err != nil {
		t.Fatal(err)
	}
	pix := recon.Pixels{W: 40, H: 30, C: 3, Pix: make([]uint8, 40*30*3)}
	for i := range pix.Pix {
		pix.Pix[i] = uint8(i * 13)
	}
	w := &inProcess{e: cpuworker.New()}
	r := &workerRecon{w: w}
	for _, mask := range []maskState{{Ratio: 0.5, Seed: 2}, {Ratio: 0.75, Seed: 5, Block: true}} {
		j := reconJob{lm: lm, pix: pix, mask: mask}
		if !r.takes(j) {
			t.Fatal("the worker does not take a main-view job")
		}
		got, err := r.run(j)
		if err != nil {
			t.Fatal(err)
		}
		want, err := j.run()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.res, want.res) || !reflect.DeepEqual(got.panels, want.panels) || got.note != want.note {
			t.Errorf("mask %+v: the worker's reconstruction differs (MSE %g, page %g)", mask, got.res.MSE, want.res.MSE)
		}
	}
	// Another picture is prepared anew (the kept input is per picture).
	other := recon.Pixels{W: 32, H: 32, C: 1, Pix: make([]uint8, 32*32)}
	for i := range other.Pix {
		other.Pix[i] = uint8(i * 5)
	}
	j := reconJob{lm: lm, pix: other, mask: maskState{Ratio: 0.5, Seed: 2}}
	got, err := r.run(j)
	if err != nil {
		t.Fatal(err)
	}
	want, err := j.run()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.panels, want.panels) {
		t.Error("a second picture: the worker's reconstruction differs from the page's")
	}
	if w.loads != 1 {
		t.Errorf("the model was sent %d times, want once", w.loads)
	}
	lm.Model.AdamW(1e-3) // a training step changes the parameters
	if _, err := r.run(reconJob{lm: lm, pix: pix, mask: maskState{Ratio: 0.5, Seed: 2}}); err != nil {
		t.Fatal(err)
	}
	if w.loads != 2 {
		t.Errorf("after a training step the model was sent %d times in all, want 2", w.loads)
	}
	if r.takes(reconJob{lm: lm, preview: true}) {
		t.Error("the worker takes the training preview")
	}
}

// A refused request is an error of that request; a reply that is not one
// means the worker failed.
func TestWorkerErrors(t *testing.T) {
	_, err := replyOf(workermsg.Message{ID: 1, Op: workermsg.OpError, Text: []byte("model 4 is not loaded in the worker")}.Encode())
	var we *workerError
	if !errors.As(err, &we) || workerFailed(err) != nil || err.Error() != "model 4 is not loaded in the worker" {
		t.Errorf("error reply: %v", err)
	}
	_, err = replyOf([]byte("junk"))
	if workerFailed(err) == nil || !strings.Contains(err.Error(), "the CPU worker failed: not a webmae worker message") {
		t.Errorf("junk reply: %v", err)
	}
}
