package harness

import (
	"fmt"
	"strconv"

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
	if err := p.SetInputs(in.Pixels, mk); err != nil {
		return nil, err
	}
	p.Forward()
	p.Backward()
	loss, err := p.Loss()
	if err != nil {
		return nil, err
	}
	logits, err := p.Prediction()
	if err != nil {
		return nil, err
	}
	grads, err := m.ReadGrads()
	if err != nil {
		return nil, err
	}
	r := &Result{Tensors: map[string]model.HostTensor{}}
	r.add("loss", []int{1}, []float32{loss}, nil)
	r.add("logits", []int{in.B, l, cfg.PatchDim()}, logits, nil)
	r.add("mask", []int{in.B, l}, mk.Mask, nil)
	addParams := func(prefix string, flat []float32, trainableOnly bool) {
		names, tensors := tutorial.ParamsToTensors(flat, m.Layout)
		for _, n := range names {
			if t, _ := m.Layout.Lookup(n); trainableOnly && t.Group == model.GroupFrozen {
				continue
			}
			r.add(prefix+n, tensors[n].Shape, tensors[n].F32, nil)
		}
	}
	addParams("grad.", grads, true)
	if adamwSteps <= 0 {
		return r, nil
	}
	losses := make([]float32, adamwSteps)
	losses[0] = loss
	for s := 0; s < adamwSteps; s++ {
		if s > 0 {
			p.Forward()
			p.Backward()
			if losses[s], err = p.Loss(); err != nil {
				return nil, err
			}
		}
		m.AdamW(lr)
	}
	r.add("step_losses", []int{adamwSteps}, losses, nil)
	final, err := m.ReadParams()
	if err != nil {
		return nil, err
	}
	addParams("step"+strconv.Itoa(adamwSteps)+".", final, false)
	return r, nil
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
