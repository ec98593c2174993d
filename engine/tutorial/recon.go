package tutorial

import (
	"fmt"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// Geometry is the image side of the configuration as an engine/model
// Config (image size, patch size, channels, masking ratio; the raw-pixel
// target): what engine/recon's panels, metrics and baselines read. It is
// not a valid Hugging Face model configuration.
func (c Config) Geometry() model.Config {
	return model.Config{ImageSize: c.ImageSize, PatchSize: c.PatchSize, NumChannels: c.Channels, MaskRatio: c.MaskingRatio}
}

// RandomMask is the tutorial's masking of one image at ratio, drawn from
// the same noise as recon.RandomMask with seed: the first int(ratio*L) of
// the argsort are masked (clamped so that one patch stays visible and one
// is masked).
func (c Config) RandomMask(ratio float64, seed uint64) (model.Masking, error) {
	l := c.NumPatches()
	nm := min(max(c.NumMasked(ratio), 1), l-1)
	return MaskFromNoise(recon.MaskNoise(l, seed), 1, l, nm)
}

// Reconstructor reconstructs single images with a tutorial model, keeping
// one batch-1 Pass per number of kept patches.
type Reconstructor struct {
	m      *Model
	norm   recon.Norm
	passes map[int]*Pass
}

// NewReconstructor returns a Reconstructor for m whose images are
// normalised with n.
func NewReconstructor(m *Model, n recon.Norm) (*Reconstructor, error) {
	if err := n.Validate(m.Config.Channels); err != nil {
		return nil, fmt.Errorf("new reconstructor: %w", err)
	}
	return &Reconstructor{m: m, norm: n, passes: map[int]*Pass{}}, nil
}

// Reconstruct runs the model on one image (C, H, W, normalised) with the
// masking mk (B = 1; any rule: kept patches in any order, masked ones
// restoring to K or beyond) and returns the four panels and metrics.
func (r *Reconstructor) Reconstruct(image []float32, mk model.Masking) (recon.Result, error) {
	if mk.B != 1 {
		return recon.Result{}, fmt.Errorf("reconstruct: masking has %d samples, want 1", mk.B)
	}
	p, ok := r.passes[mk.K]
	if !ok {
		var err error
		if p, err = r.m.NewPass(1, mk.K); err != nil {
			return recon.Result{}, fmt.Errorf("reconstruct: %w", err)
		}
		r.passes[mk.K] = p
	}
	if err := p.SetInputs(image, mk); err != nil {
		return recon.Result{}, fmt.Errorf("reconstruct: %w", err)
	}
	p.Forward()
	pred, err := p.Prediction()
	if err != nil {
		return recon.Result{}, fmt.Errorf("reconstruct: %w", err)
	}
	return recon.FromPrediction(r.m.Config.Geometry(), r.norm, append([]float32(nil), image...), recon.Masked(mk, 0), pred)
}
