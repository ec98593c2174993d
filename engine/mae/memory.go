package mae

import (
	"fmt"

	"webmae/engine/fileio"
	"webmae/engine/model"
)

// MaxMemoryBytes is the most memory a model with its passes may need
// (estimated by Memory before anything is allocated): 8 GiB, above every
// configuration this project trains or reconstructs with (ViT-Huge at
// batch 1 needs about 6 GiB), and below what a desktop, or a browser tab
// on WebGPU, can give.
const MaxMemoryBytes = 8 << 30

// Memory is an estimate, in bytes, of what training or reconstruction
// allocates: Model is the parameters and gradients plus (when training)
// both AdamW moments, Pass the activations and backward scratch of one
// NewPass, Extra whatever else the caller holds (an eval set).
type Memory struct {
	Model, Pass, Extra float64
}

// Total is the sum of the parts, in bytes.
func (m Memory) Total() float64 { return m.Model + m.Pass + m.Extra }

// EstimateMemory estimates the memory of a model for cfg with passes of
// b images keeping k patches each (passes of them alive at once) and,
// with adamw, the optimizer moments. It mirrors NewPass's allocations in
// float64, so that absurd sizes cannot overflow; cfg must be valid.
func EstimateMemory(cfg model.Config, b, k, passes int, adamw bool) Memory {
	params := float64(model.NewLayout(cfg).Total)
	copies := 2.0 // parameters and gradients
	if adamw {
		copies = 4
	}
	return Memory{Model: 4 * copies * params, Pass: float64(passes) * 4 * passFloats(cfg, float64(b), float64(k))}
}

// passFloats counts the 4-byte elements NewPass allocates (indices
// included) for b images keeping k patches.
func passFloats(c model.Config, b, k float64) float64 {
	l := float64(c.NumPatches())
	D, Dd, PD := float64(c.HiddenSize), float64(c.DecoderHiddenSize), float64(c.PatchDim())
	S, C := float64(c.ImageSize), float64(c.NumChannels)
	te, td := 1+k, 1+l
	n := b*C*S*S + b*l*PD + b*k + 2*b*l + b*l*D + D
	if c.NormPixLoss {
		n += b * l * PD
	}
	block := func(t, d, hdim, heads float64) float64 {
		rows := b * t
		return rows*(8*d+4+2*hdim) + b*heads*t*t
	}
	n += b*te*D + float64(c.NumHiddenLayers)*block(te, D, float64(c.IntermediateSize), float64(c.NumAttentionHeads))
	n += b*te*D + 2*b*te + b*te*Dd
	n += b*td*Dd + float64(c.DecoderNumHiddenLayers)*block(td, Dd, float64(c.DecoderIntermediateSize), float64(c.DecoderNumAttentionHeads))
	n += b*td*Dd + 2*b*td + b*td*PD + 1
	maxRowsD := max(b*te*D, b*td*Dd)
	maxHid := max(b*te*float64(c.IntermediateSize), b*td*float64(c.DecoderIntermediateSize))
	n += b*te*D + b*td*Dd + 5*maxRowsD + 2*maxHid + b*td*PD + b*te*Dd + b*l*D
	return n
}

// Check refuses an estimate over MaxMemoryBytes with a one-line
// error that names the limit, the parts and what to change.
func (m Memory) Check(what string) error {
	if m.Total() <= MaxMemoryBytes {
		return nil
	}
	extra := ""
	if m.Extra > 0 {
		extra = fmt.Sprintf(", eval set %s", gib(m.Extra))
	}
	return fmt.Errorf("%s needs about %s (activations %s, model %s%s), over the %s memory limit",
		what, gib(m.Total()), gib(m.Pass), gib(m.Model), extra, fileio.FormatBytes(MaxMemoryBytes))
}

func gib(v float64) string {
	if v >= 1<<62 {
		return fmt.Sprintf("%.3g GiB", v/(1<<30))
	}
	return fileio.FormatBytes(int64(v))
}
