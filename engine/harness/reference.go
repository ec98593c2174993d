package harness

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// ReferenceLR and ReferenceSteps are the AdamW settings of the reference
// vectors (their metadata repeats them).
const (
	ReferenceLR    = 1e-3
	ReferenceSteps = 3
)

// ReferenceFiles is one reference model: its config, its weights (under
// Hugging Face or official names, in any format model.ReadTensors reads)
// and its inputs/outputs file, as bytes (so the browser self-test can
// fetch them).
type ReferenceFiles struct {
	Name                string
	Config, Weights, IO []byte
}

// CheckReference runs the parity computation for one reference on k and
// compares it with the stored PyTorch outputs.
func CheckReference(k backend.Kernels, f ReferenceFiles) (Report, error) {
	cfg, err := model.ParseConfig(f.Config)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	wt, err := model.ReadTensors(f.Weights)
	if err != nil {
		return Report{}, fmt.Errorf("%s weights: %w", f.Name, err)
	}
	params, _, err := model.LoadWeights(wt, cfg, model.NewLayout(cfg))
	if err != nil {
		return Report{}, fmt.Errorf("%s weights: %w", f.Name, err)
	}
	ref, _, err := model.ReadSafetensors(f.IO)
	if err != nil {
		return Report{}, fmt.Errorf("%s reference: %w", f.Name, err)
	}
	in, err := InputsFromTensors(ref, cfg)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	got, err := Run(k, cfg, params, in, ReferenceSteps, ReferenceLR)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	return Compare(got, ref, ReferenceLR), nil
}
