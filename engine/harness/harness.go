// Package harness runs the parity computation of the `webmae forward`
// command: one forward and backward pass on a given batch and noise, and
// optionally a few AdamW steps, producing tensors under the names of the
// PyTorch reference vectors (loss, logits, mask, ids_restore, grad.<name>,
// step_losses, step<N>.<name>).
package harness

import (
	"fmt"
	"math"
	"strconv"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// Inputs are a batch of images and the masking noise.
type Inputs struct {
	Pixels []float32 // (B, C, H, W)
	Noise  []float32 // (B, L)
	B      int
}

// InputsFromTensors takes pixel_values and noise from a reference-style
// inputs file (other tensors are ignored) and checks them against cfg.
func InputsFromTensors(t map[string]model.HostTensor, cfg model.Config) (Inputs, error) {
	return InputsOfShape(t, cfg.NumChannels, cfg.ImageSize, cfg.NumPatches())
}

// InputsOfShape is InputsFromTensors for images of c channels, s x s
// pixels and l patches (any model family).
func InputsOfShape(t map[string]model.HostTensor, c, s, l int) (Inputs, error) {
	pv, ok := t["pixel_values"]
	if !ok || pv.IsInt() {
		return Inputs{}, fmt.Errorf("inputs: no float tensor pixel_values")
	}
	nz, ok := t["noise"]
	if !ok || nz.IsInt() {
		return Inputs{}, fmt.Errorf("inputs: no float tensor noise")
	}
	if len(pv.Shape) != 4 || pv.Shape[1] != c || pv.Shape[2] != s || pv.Shape[3] != s || pv.Shape[0] < 1 {
		return Inputs{}, fmt.Errorf("inputs: pixel_values shape %v, want (B, %d, %d, %d)", pv.Shape, c, s, s)
	}
	b := pv.Shape[0]
	if len(nz.Shape) != 2 || nz.Shape[0] != b || nz.Shape[1] != l {
		return Inputs{}, fmt.Errorf("inputs: noise shape %v, want (%d, %d)", nz.Shape, b, l)
	}
	for name, vals := range map[string][]float32{"pixel_values": pv.F32, "noise": nz.F32} {
		for i, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Inputs{}, fmt.Errorf("inputs: %s[%d] is %v", name, i, v)
			}
		}
	}
	return Inputs{Pixels: pv.F32, Noise: nz.F32, B: b}, nil
}

// Result holds the outputs under reference names, in write order.
type Result struct {
	Names   []string
	Tensors map[string]model.HostTensor
}

func (r *Result) add(name string, shape []int, f []float32, i []int64) {
	r.Names = append(r.Names, name)
	r.Tensors[name] = model.HostTensor{Shape: shape, F32: f, I64: i}
}

// Run loads params into a model on k, runs forward and backward on in, and
// then adamwSteps AdamW steps with learning rate lr on the same batch and
// noise.
func Run(k backend.Kernels, cfg model.Config, params []float32, in Inputs, adamwSteps int, lr float64) (*Result, error) {
	m, err := mae.New(k, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(params); err != nil {
		return nil, err
	}
	l, keep := cfg.NumPatches(), cfg.NumKeep(cfg.MaskRatio)
	mk, err := model.MaskFromNoise(in.Noise, in.B, l, keep)
	if err != nil {
		return nil, fmt.Errorf("masking: %w", err)
	}
	p, err := m.NewPass(in.B, keep)
	if err != nil {
		return nil, err
	}
	toTensors := func(flat []float32) ([]string, map[string]model.HostTensor) {
		return model.ParamsToHF(flat, cfg, m.Layout)
	}
	return parity{m: m, p: p, mk: mk, patchDim: cfg.PatchDim(), withRestore: true, lookup: m.Layout.Lookup, toTensors: toTensors}.
		run(in, adamwSteps, lr)
}

// parity is one model family's parts of the parity computation: a model
// with its parameters loaded, a pass for the batch, the masking, and how
// the family names its tensors.
type parity struct {
	m interface {
		ReadParams() ([]float32, error)
		ReadGrads() ([]float32, error)
		AdamW(lr float64)
	}
	p interface {
		SetInputs(images []float32, mk model.Masking) error
		Forward()
		Backward()
		Loss() (float32, error)
		Prediction() ([]float32, error)
	}
	mk          model.Masking
	patchDim    int
	withRestore bool // write ids_restore (the tutorial scatters by index instead)
	lookup      func(name string) (model.Tensor, bool)
	toTensors   func(flat []float32) ([]string, map[string]model.HostTensor)
}

// run computes the outputs: loss, logits, mask, ids_restore (withRestore),
// grad.<name> of every trainable tensor and, with adamwSteps > 0,
// step_losses and step<N>.<name> of every tensor.
func (f parity) run(in Inputs, adamwSteps int, lr float64) (*Result, error) {
	p, mk := f.p, f.mk
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
	grads, err := f.m.ReadGrads()
	if err != nil {
		return nil, err
	}
	r := &Result{Tensors: map[string]model.HostTensor{}}
	r.add("loss", []int{1}, []float32{loss}, nil)
	r.add("logits", []int{in.B, mk.L, f.patchDim}, logits, nil)
	r.add("mask", []int{in.B, mk.L}, mk.Mask, nil)
	if f.withRestore {
		restore := make([]int64, len(mk.Restore))
		for i, v := range mk.Restore {
			restore[i] = int64(v)
		}
		r.add("ids_restore", []int{in.B, mk.L}, nil, restore)
	}
	addParams := func(prefix string, flat []float32, trainableOnly bool) {
		names, tensors := f.toTensors(flat)
		for _, n := range names {
			if t, _ := f.lookup(n); trainableOnly && t.Group == model.GroupFrozen {
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
		f.m.AdamW(lr)
	}
	r.add("step_losses", []int{adamwSteps}, losses, nil)
	final, err := f.m.ReadParams()
	if err != nil {
		return nil, err
	}
	addParams("step"+strconv.Itoa(adamwSteps)+".", final, false)
	return r, nil
}
