// Package mae is the MAE forward/backward sequence, written once against
// the backend.Kernels interface: the CPU backend and the WebGPU backend run
// the same code. Parameters, gradients and both AdamW moments each live in
// one flat buffer with the layout of model.Layout; Buffers and Optimizer,
// which hold them, serve the tutorial's family (engine/tutorial) too.
package mae

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// Model is an MAE's configuration, layout and flat buffers (parameters,
// gradients, AdamW state) on one backend.
type Model struct {
	Config model.Config
	Layout *model.Layout
	Buffers
}

// New allocates a model for cfg on k with zero parameters; call
// SetParams (or model.Init then SetParams) before use.
func New(k backend.Kernels, cfg model.Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new model: %w", err)
	}
	lay := model.NewLayout(cfg)
	bufs := NewBuffers(k, lay.Total, lay.Groups[model.GroupDecay], lay.Groups[model.GroupNoDecay])
	return &Model{Config: cfg, Layout: lay, Buffers: bufs}, nil
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
