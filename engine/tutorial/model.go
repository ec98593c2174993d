package tutorial

import (
	"errors"
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// Model is a tutorial MAE's parameters and optimizer state on one backend.
type Model struct {
	Config Config
	Layout *Layout
	K      backend.Kernels

	Params, Grads backend.Buffer
	m, v          backend.Buffer // AdamW moments, allocated on the first step
	steps         int
}

// New allocates a model for cfg on k with zero parameters.
func New(k backend.Kernels, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new tutorial model: %w", err)
	}
	lay := NewLayout(cfg)
	return &Model{Config: cfg, Layout: lay, K: k, Params: k.NewBuffer(lay.Total), Grads: k.NewBuffer(lay.Total)}, nil
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

// ReadOptimizer downloads the AdamW state.
func (m *Model) ReadOptimizer() (mae.OptimizerState, error) {
	st := mae.OptimizerState{Steps: m.steps}
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
func (m *Model) SetOptimizer(st mae.OptimizerState) error {
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

// AdamW applies one AdamW step (engine/mae's optimizer, the official
// recipe's hyper-parameters) to every tensor the MAE uses; the unused
// encoder.cls_token and encoder.mlp_head.* stay as loaded.
func (m *Model) AdamW(lr float64) {
	m.allocMoments()
	m.steps++
	mae.ApplyAdamW(m.K, m.Params, m.Grads, m.m, m.v, m.Layout.Groups[model.GroupDecay], m.Layout.Groups[model.GroupNoDecay], m.steps, lr)
}
