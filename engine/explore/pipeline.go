package explore

import (
	"fmt"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// Stages are the tensors of one image at each step of the MAE pipeline,
// as the seed tutorial teaches it, read from the engine's own pass.
type Stages struct {
	L, K, PD, D, Dd int
	// Patches is the image split into patches (L, P*P*C), normalised
	// pixels, patch order row by row.
	Patches []float32
	// Noise is the per-patch noise of random masking (L); nil for
	// block-wise and hand-drawn masks, which have no noise.
	Noise []float32
	// Shuffle is ids_shuffle (L): patch indices, kept ones first, in the
	// order argsort(noise) gives for random masks.
	Shuffle []int32
	// Keep is ids_shuffle[:K], the kept patches in the encoder's order.
	Keep []int32
	// Masked is one flag per patch (true: removed).
	Masked []bool
	// KeptPatches is the pixels of the kept patches (K, P*P*C).
	KeptPatches []float32
	// EncoderTokens is the encoder's input (1+K, D): CLS + position 0, then
	// each kept patch's embedding plus its position embedding.
	EncoderTokens []float32
	// DecoderTokens is the decoder's input (1+L, Dd): the embedded encoder
	// output with mask tokens put back at the removed patches (original
	// order), plus the decoder position embeddings.
	DecoderTokens []float32
	// Prediction is the decoder's output for every patch (L, P*P*C) and
	// Target what the loss compares it with (the patches, normalised per
	// patch for norm_pix_loss models).
	Prediction, Target []float32
	// PatchLoss is each patch's mean squared error (L), over every patch;
	// the loss averages it over the removed patches only (Loss).
	PatchLoss []float64
	Loss      float32
}

// Pipeline runs the model on image (C, H, W, normalised) with masking mk
// (B = 1) and returns every stage. noise is the noise mk was drawn from
// (recon.MaskNoise with the seed of recon.RandomMask), or nil.
func Pipeline(r *recon.Reconstructor, image []float32, mk model.Masking, noise []float32) (Stages, error) {
	cfg := r.Model().Config
	if noise != nil && len(noise) != mk.L {
		return Stages{}, fmt.Errorf("pipeline: noise has %d values, masking %d patches", len(noise), mk.L)
	}
	if _, err := r.Reconstruct(image, mk); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	p, err := r.Pass(mk.K)
	if err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	st := Stages{L: mk.L, K: mk.K, PD: cfg.PatchDim(), D: cfg.HiddenSize, Dd: cfg.DecoderHiddenSize,
		Noise: noise, Keep: mk.Keep, Masked: recon.Masked(mk, 0), Shuffle: make([]int32, mk.L)}
	for l, pos := range mk.Restore {
		st.Shuffle[pos] = int32(l)
	}
	if st.Patches, err = recon.Patchify(image, cfg.NumChannels, cfg.ImageSize, cfg.ImageSize, cfg.PatchSize); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	for _, k := range st.Keep {
		st.KeptPatches = append(st.KeptPatches, st.Patches[int(k)*st.PD:(int(k)+1)*st.PD]...)
	}
	if st.EncoderTokens, err = p.EncoderInput(); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	if st.DecoderTokens, err = p.DecoderInput(); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	if st.Prediction, err = p.Prediction(); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	if st.Target, err = p.Target(); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	if st.Loss, err = p.Loss(); err != nil {
		return Stages{}, fmt.Errorf("pipeline: %w", err)
	}
	st.PatchLoss = make([]float64, st.L)
	for l := range st.PatchLoss {
		s := 0.0
		for j := l * st.PD; j < (l+1)*st.PD; j++ {
			d := float64(st.Prediction[j]) - float64(st.Target[j])
			s += d * d
		}
		st.PatchLoss[l] = s / float64(st.PD)
	}
	return st, nil
}
