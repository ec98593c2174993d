package harness

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/tutorial"
)

// TutorialInputs takes pixel_values and noise from an inputs file and
// checks them against a tutorial config.
func TutorialInputs(t map[string]model.HostTensor, cfg tutorial.Config) (Inputs, error) {
	return InputsOfShape(t, cfg.Channels, cfg.ImageSize, cfg.NumPatches())
}

// RunTutorial is Run for the tutorial's model family: loss, logits
// (to_pixels of every decoded token), mask, grad.<key> for every tensor the
// MAE uses (under the tutorial's canonical keys) and, with adamwSteps > 0,
// step_losses and step<N>.<key>. There is no ids_restore: the tutorial
// scatters by index instead.
func RunTutorial(k backend.Kernels, cfg tutorial.Config, params []float32, in Inputs, adamwSteps int, lr float64) (*Result, error) {
	m, err := tutorial.New(k, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(params); err != nil {
		return nil, err
	}
	l, nm := cfg.NumPatches(), cfg.NumMasked(cfg.MaskingRatio)
	mk, err := tutorial.MaskFromNoise(in.Noise, in.B, l, nm)
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	p, err := m.NewPass(in.B, l-nm)
	if err != nil {
		return nil, err
	}
	toTensors := func(flat []float32) ([]string, map[string]model.HostTensor) {
		return tutorial.ParamsToTensors(flat, m.Layout)
	}
	return parity{m: m, p: p, mk: mk, patchDim: cfg.PatchDim(), lookup: m.Layout.Lookup, toTensors: toTensors}.
		run(in, adamwSteps, lr)
}

// CheckTutorialReference runs the tutorial family's parity computation for
// one reference (config, weights as safetensors, PyTorch outputs) on k and
// compares it with Compare's tolerances.
func CheckTutorialReference(k backend.Kernels, f ReferenceFiles) (Report, error) {
	cfg, err := tutorial.ParseConfig(f.Config)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	params, err := tutorial.ReadWeights(f.Weights, tutorial.NewLayout(cfg))
	if err != nil {
		return Report{}, fmt.Errorf("%s weights: %w", f.Name, err)
	}
	ref, _, err := model.ReadSafetensors(f.IO)
	if err != nil {
		return Report{}, fmt.Errorf("%s reference: %w", f.Name, err)
	}
	in, err := TutorialInputs(ref, cfg)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	got, err := RunTutorial(k, cfg, params, in, 0, ReferenceLR)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", f.Name, err)
	}
	return Compare(got, ref, ReferenceLR), nil
}

// CheckAny runs CheckTutorialReference for a reference whose config
// selects the tutorial's family, CheckReference otherwise.
func CheckAny(k backend.Kernels, f ReferenceFiles) (Report, error) {
	if tutorial.IsConfig(f.Config) {
		return CheckTutorialReference(k, f)
	}
	return CheckReference(k, f)
}
