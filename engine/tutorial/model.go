package tutorial

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// Model is a tutorial MAE's configuration, layout and flat buffers
// (parameters, gradients, AdamW state: engine/mae's Buffers) on one
// backend. AdamW updates every tensor the MAE uses; the unused
// encoder.cls_token and encoder.mlp_head.* (the frozen group) stay as
// loaded.
type Model struct {
	Config Config
	Layout *Layout
	mae.Buffers
}

// New allocates a model for cfg on k with zero parameters.
func New(k backend.Kernels, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new tutorial model: %w", err)
	}
	lay := NewLayout(cfg)
	bufs := mae.NewBuffers(k, lay.Total, lay.Groups[model.GroupDecay], lay.Groups[model.GroupNoDecay])
	return &Model{Config: cfg, Layout: lay, Buffers: bufs}, nil
}
