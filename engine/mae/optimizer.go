package mae

import (
	"errors"
	"fmt"
	"math"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// Optimizer settings of the official MAE pretraining recipe.
const (
	Beta1       = 0.9
	Beta2       = 0.95
	AdamEps     = 1e-8
	WeightDecay = 0.05
)

// OptimizerState is the AdamW state on the host: both moments (the
// layout's Total values each, nil before the first step) and the number of
// steps taken.
type OptimizerState struct {
	M, V  []float32
	Steps int
}

// Optimizer is AdamW with the official recipe's hyper-parameters over one
// flat parameter buffer: both moments on the backend (allocated on the
// first step), the number of steps taken, and the two ranges of the layout
// it updates, decay (weight decay WeightDecay) and noDecay (none). The
// rest of the layout, the frozen group, is never touched. Every model
// family uses it, through Buffers.
type Optimizer struct {
	k              backend.Kernels
	total          int
	decay, noDecay model.Span
	m, v           backend.Buffer
	steps          int
}

// NewOptimizer returns the AdamW state, at step 0, for a layout of total
// values whose decay and noDecay groups are the given ranges.
func NewOptimizer(k backend.Kernels, total int, decay, noDecay model.Span) Optimizer {
	return Optimizer{k: k, total: total, decay: decay, noDecay: noDecay}
}

// Step applies one AdamW step with learning rate lr to params from grads
// (both with the optimizer's layout).
func (o *Optimizer) Step(params, grads backend.Buffer, lr float64) {
	o.allocMoments()
	o.steps++
	t := float64(o.steps)
	h := backend.AdamW{
		LR: float32(lr), Beta1: Beta1, Beta2: Beta2, Eps: AdamEps,
		BiasCorr1: float32(1 - math.Pow(Beta1, t)), BiasCorr2: float32(1 - math.Pow(Beta2, t)),
	}
	for _, g := range []struct {
		span  model.Span
		decay float32
	}{{o.decay, WeightDecay}, {o.noDecay, 0}} {
		h.WeightDecay = g.decay
		view := func(b backend.Buffer) backend.View { return backend.View{Buf: b, Off: g.span.Off, Len: g.span.Len} }
		o.k.AdamWStep(view(params), view(grads), view(o.m), view(o.v), h)
	}
}

// Steps is the number of AdamW steps taken.
func (o *Optimizer) Steps() int { return o.steps }

// State downloads the AdamW state.
func (o *Optimizer) State() (OptimizerState, error) {
	st := OptimizerState{Steps: o.steps}
	if o.m == nil {
		return st, nil
	}
	var err error
	if st.M, err = readBuffer(o.k, o.m, "adamw m"); err != nil {
		return st, err
	}
	if st.V, err = readBuffer(o.k, o.v, "adamw v"); err != nil {
		return st, err
	}
	return st, nil
}

// SetState restores AdamW state saved by State.
func (o *Optimizer) SetState(st OptimizerState) error {
	if st.Steps < 0 {
		return errors.New("set optimizer: negative step count")
	}
	if st.M == nil && st.V == nil {
		o.m, o.v, o.steps = nil, nil, st.Steps
		return nil
	}
	if len(st.M) != o.total || len(st.V) != o.total {
		return fmt.Errorf("set optimizer: moments have %d and %d values, model has %d", len(st.M), len(st.V), o.total)
	}
	o.allocMoments()
	o.k.Write(backend.Whole(o.m), st.M)
	o.k.Write(backend.Whole(o.v), st.V)
	o.steps = st.Steps
	return nil
}

func (o *Optimizer) allocMoments() {
	if o.m == nil {
		o.m = o.k.NewBuffer(o.total)
		o.v = o.k.NewBuffer(o.total)
	}
}

// readBuffer downloads a whole buffer; what names it in the error.
func readBuffer(k backend.Kernels, b backend.Buffer, what string) ([]float32, error) {
	out := make([]float32, b.Len())
	if err := k.Read(backend.Whole(b), out); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}
