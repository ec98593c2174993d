package mae

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// Buffers are a model's flat buffers on one backend: its parameters and
// their gradients (Total values each, in the model family's layout) and
// its AdamW state. Both model families embed it; their passes reach the
// tensors through P and G and run their linear layers with Linear and
// LinearBackward.
type Buffers struct {
	K             backend.Kernels
	Params, Grads backend.Buffer
	opt           Optimizer
}

// NewBuffers allocates zero parameters and gradients of total values on k,
// with AdamW over the decay and noDecay ranges of their layout.
func NewBuffers(k backend.Kernels, total int, decay, noDecay model.Span) Buffers {
	return Buffers{K: k, Params: k.NewBuffer(total), Grads: k.NewBuffer(total), opt: NewOptimizer(k, total, decay, noDecay)}
}

// P returns the parameter view of a span.
func (w *Buffers) P(s model.Span) backend.View {
	return backend.View{Buf: w.Params, Off: s.Off, Len: s.Len}
}

// G returns the gradient view of a span.
func (w *Buffers) G(s model.Span) backend.View {
	return backend.View{Buf: w.Grads, Off: s.Off, Len: s.Len}
}

// SetParams uploads host parameters (the layout's Total values).
func (w *Buffers) SetParams(host []float32) error {
	if len(host) != w.Params.Len() {
		return fmt.Errorf("set params: %d values, model has %d", len(host), w.Params.Len())
	}
	w.K.Write(backend.Whole(w.Params), host)
	return nil
}

// ReadParams downloads the parameters.
func (w *Buffers) ReadParams() ([]float32, error) { return readBuffer(w.K, w.Params, "params") }

// ReadGrads downloads the gradients of the last backward pass.
func (w *Buffers) ReadGrads() ([]float32, error) { return readBuffer(w.K, w.Grads, "grads") }

// AdamW applies one AdamW step with learning rate lr to the parameters
// from the gradients of the last backward pass (see Optimizer).
func (w *Buffers) AdamW(lr float64) { w.opt.Step(w.Params, w.Grads, lr) }

// Steps is the number of AdamW steps taken.
func (w *Buffers) Steps() int { return w.opt.Steps() }

// ReadOptimizer downloads the AdamW state.
func (w *Buffers) ReadOptimizer() (OptimizerState, error) { return w.opt.State() }

// SetOptimizer restores AdamW state saved by ReadOptimizer.
func (w *Buffers) SetOptimizer(st OptimizerState) error { return w.opt.SetState(st) }

// Linear is y = x W^T (+ b) for rows of x, accumulated into y when
// accumulate; an empty bias span means the layer has none.
func (w *Buffers) Linear(y, x backend.View, weight, bias model.Span, rows, in, out int, accumulate bool) {
	var b backend.View
	if bias.Len > 0 {
		b = w.P(bias)
	}
	w.K.MatMul(y, x, w.P(weight), b, backend.MatMul{M: rows, N: out, K: in, TransB: true, Accumulate: accumulate})
}

// LinearBackward computes dW = dy^T x, db = colsum(dy) (when there is a
// bias) and, unless dx is empty, dx = dy W (accumulated into dx when
// accumulate).
func (w *Buffers) LinearBackward(dx, dy, x backend.View, weight, bias model.Span, rows, in, out int, accumulate bool) {
	w.K.MatMul(w.G(weight), dy, x, backend.View{}, backend.MatMul{M: out, N: in, K: rows, TransA: true})
	if bias.Len > 0 {
		w.K.ColumnSum(w.G(bias), dy, rows, false)
	}
	if !dx.Empty() {
		w.K.MatMul(dx, dy, w.P(weight), backend.View{}, backend.MatMul{M: rows, N: in, K: out, Accumulate: accumulate})
	}
}

// CheckPassShape checks a pass's batch b and kept patches k of l, for the
// NewPass of either family.
func CheckPassShape(b, k, l int) error {
	if b < 1 {
		return fmt.Errorf("new pass: batch %d < 1", b)
	}
	if k < 1 || k >= l {
		return fmt.Errorf("new pass: keeping %d of %d patches: need 1 <= keep < %d", k, l, l)
	}
	return nil
}
