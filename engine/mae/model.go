// Package mae is the MAE forward/backward sequence, written once against
// the backend.Kernels interface: the CPU backend and the WebGPU backend run
// the same code. Parameters, gradients and both AdamW moments each live in
// one flat buffer with the layout of model.Layout.
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

// Model is an MAE's parameters and optimizer state on one backend.
type Model struct {
	Config model.Config
	Layout *model.Layout
	K      backend.Kernels

	Params, Grads backend.Buffer
	m, v          backend.Buffer // AdamW moments, allocated on the first step
	steps         int            // AdamW steps taken
}

// New allocates a model for cfg on k with zero parameters; call
// SetParams (or model.Init then SetParams) before use.
func New(k backend.Kernels, cfg model.Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	lay := model.NewLayout(cfg)
	return &Model{Config: cfg, Layout: lay, K: k, Params: k.NewBuffer(lay.Total), Grads: k.NewBuffer(lay.Total)}, nil
}

// NewInit returns a model initialised as the official code does, from seed.
func NewInit(k backend.Kernels, cfg model.Config, seed uint64) (*Model, error) {
	m, err := New(k, cfg)
	if err != nil {
		return nil, err
	}
	host := make([]float32, m.Layout.Total)
	model.Init(cfg, m.Layout, host, seed)
	if err := m.SetParams(host); err != nil {
		return nil, err
	}
	return m, nil
}

// P returns the parameter view of a span.
func (m *Model) P(s model.Span) backend.View {
	return backend.View{Buf: m.Params, Off: s.Off, Len: s.Len}
}

// G returns the gradient view of a span.
func (m *Model) G(s model.Span) backend.View {
	return backend.View{Buf: m.Grads, Off: s.Off, Len: s.Len}
}

// SetParams uploads host parameters (length Layout.Total).
func (m *Model) SetParams(host []float32) error {
	if len(host) != m.Layout.Total {
		return fmt.Errorf("set params: %d values, model has %d", len(host), m.Layout.Total)
	}
	m.K.Write(backend.Whole(m.Params), host)
	return nil
}

// ReadParams downloads the parameters.
func (m *Model) ReadParams() ([]float32, error) { return m.read(m.Params, "params") }

// ReadGrads downloads the gradients of the last backward pass.
func (m *Model) ReadGrads() ([]float32, error) { return m.read(m.Grads, "grads") }

func (m *Model) read(b backend.Buffer, what string) ([]float32, error) {
	out := make([]float32, b.Len())
	if err := m.K.Read(backend.Whole(b), out); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// OptimizerState is the AdamW state: both moments (Layout.Total each,
// nil before the first step) and the number of steps taken.
type OptimizerState struct {
	M, V  []float32
	Steps int
}

// ReadOptimizer downloads the AdamW state.
func (m *Model) ReadOptimizer() (OptimizerState, error) {
	st := OptimizerState{Steps: m.steps}
	if m.m == nil {
		return st, nil
	}
	var err error
	if st.M, err = m.read(m.m, "adamw m"); err != nil {
		return st, err
	}
	if st.V, err = m.read(m.v, "adamw v"); err != nil {
		return st, err
	}
	return st, nil
}

// SetOptimizer restores AdamW state saved by ReadOptimizer.
func (m *Model) SetOptimizer(st OptimizerState) error {
	if st.Steps < 0 {
		return errors.New("set optimizer: negative step count")
	}
	if st.M == nil && st.V == nil {
		m.m, m.v, m.steps = nil, nil, st.Steps
		return nil
	}
	if len(st.M) != m.Layout.Total || len(st.V) != m.Layout.Total {
		return fmt.Errorf("set optimizer: moments have %d and %d values, model has %d", len(st.M), len(st.V), m.Layout.Total)
	}
	m.allocMoments()
	m.K.Write(backend.Whole(m.m), st.M)
	m.K.Write(backend.Whole(m.v), st.V)
	m.steps = st.Steps
	return nil
}

// Steps is the number of AdamW steps taken.
func (m *Model) Steps() int { return m.steps }

func (m *Model) allocMoments() {
	if m.m == nil {
		m.m = m.K.NewBuffer(m.Layout.Total)
		m.v = m.K.NewBuffer(m.Layout.Total)
	}
}

// AdamW applies one AdamW step with learning rate lr to every trainable
// parameter from the gradients of the last backward pass: decoupled weight
// decay on the decay group only, position embeddings frozen.
func (m *Model) AdamW(lr float64) {
	m.allocMoments()
	m.steps++
	ApplyAdamW(m.K, m.Params, m.Grads, m.m, m.v, m.Layout.Groups[model.GroupDecay], m.Layout.Groups[model.GroupNoDecay], m.steps, lr)
}

// ApplyAdamW is the AdamW update of step t (1-based) with the official
// recipe's hyper-parameters over two contiguous ranges of a flat layout:
// decay (weight decay WeightDecay) and noDecay (none). Parameters, gradients
// and both moments share the layout. Every model family uses it.
func ApplyAdamW(k backend.Kernels, params, grads, mom, vel backend.Buffer, decay, noDecay model.Span, t int, lr float64) {
	h := backend.AdamW{
		LR: float32(lr), Beta1: Beta1, Beta2: Beta2, Eps: AdamEps,
		BiasCorr1: float32(1 - math.Pow(Beta1, float64(t))), BiasCorr2: float32(1 - math.Pow(Beta2, float64(t))),
	}
	for i, s := range []model.Span{decay, noDecay} {
		h.WeightDecay = 0
		if i == 0 {
			h.WeightDecay = WeightDecay
		}
		view := func(b backend.Buffer) backend.View { return backend.View{Buf: b, Off: s.Off, Len: s.Len} }
		k.AdamWStep(view(params), view(grads), view(mom), view(vel), h)
	}
}
