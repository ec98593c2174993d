package train

import (
	"fmt"
	"math/rand/v2"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// Evaluation defaults: the official masking ratio and a fixed mask seed.
const (
	EvalRatio    = 0.75
	EvalMaskSeed = 20211111 // arXiv:2111.06377
)

// evalCropStream separates the eval crops' random stream.
const evalCropStream = 0x6576616c // "eval"

// EvalSet is a fixed set of normalised held-out images with fixed masks:
// the same images and masks for every evaluation, the model's and the
// baselines'.
type EvalSet struct {
	Config model.Config
	Norm   recon.Norm
	// Images are (C, S, S) normalised; Names say where each came from.
	Images [][]float32
	Names  []string
	// Mask is the masking of all images (B = len(Images)).
	Mask     model.Masking
	Ratio    float64
	MaskSeed uint64
}

// NewEvalSet builds the evaluation set of ds for a model cfg: up to n
// images at masking ratio ratio, masks from seed. With ds.CropEval (photos)
// the held-out images are used in turn, each first as its centred square
// and then as random resized crops (the training crop distribution, no
// flip) from a generator seeded with seed; otherwise the first n held-out
// images are used whole (centre square resized to the model size). Image
// i's mask comes from uniform noise of a PCG generator seeded (seed, i),
// so it does not depend on n or on the batch size.
func NewEvalSet(ds *Dataset, cfg model.Config, n int, ratio float64, seed uint64) (*EvalSet, error) {
	return newEvalSet(ds, officialMasking(cfg), n, ratio, seed)
}

// maskRule is a family's masking: the part of a Net the eval set needs.
type maskRule interface {
	Geometry() model.Config
	ValidateRatio(ratio float64) error
	NumKeep(ratio float64) int
	Mask(noise []float32, b, keep int) (model.Masking, error)
}

// officialMasking is the official family's masking rule of a config.
type officialMasking model.Config

func (c officialMasking) Geometry() model.Config        { return model.Config(c) }
func (c officialMasking) ValidateRatio(r float64) error { return model.Config(c).ValidateRatio(r) }
func (c officialMasking) NumKeep(r float64) int         { return model.Config(c).NumKeep(r) }
func (c officialMasking) Mask(noise []float32, b, keep int) (model.Masking, error) {
	return model.MaskFromNoise(noise, b, model.Config(c).NumPatches(), keep)
}

// newEvalSet is NewEvalSet with the masking of rule (a Net's family).
func newEvalSet(ds *Dataset, rule maskRule, n int, ratio float64, seed uint64) (*EvalSet, error) {
	cfg := rule.Geometry()
	if err := rule.ValidateRatio(ratio); err != nil {
		return nil, fmt.Errorf("eval set: %w", err)
	}
	if n < 1 || len(ds.Held) == 0 {
		return nil, fmt.Errorf("eval set: %d images asked, %d held out", n, len(ds.Held))
	}
	if n > MaxEvalImages {
		return nil, fmt.Errorf("eval set: %d images asked, over the limit of %d", n, MaxEvalImages)
	}
	if !ds.CropEval {
		n = min(n, len(ds.Held))
	}
	s := cfg.ImageSize
	set := &EvalSet{Config: cfg, Norm: ds.Norm, Ratio: ratio, MaskSeed: seed}
	crops := rand.New(rand.NewPCG(seed, evalCropStream))
	for i := 0; i < n; i++ {
		h := i % len(ds.Held)
		p := ds.Held[h]
		box, name := p.CenterSquare(), ds.HeldNames[h]
		if ds.CropEval && i >= len(ds.Held) {
			box = CropBox(crops, p.W, p.H)
			name = fmt.Sprintf("%s crop (%g,%g)-(%g,%g)", name, box.X0, box.Y0, box.X1, box.Y1)
		}
		img, err := p.Resize(box, s, s, recon.Bicubic)
		if err != nil {
			return nil, fmt.Errorf("eval set: %s: %w", name, err)
		}
		set.Images = append(set.Images, ds.Norm.Normalize(img))
		set.Names = append(set.Names, name)
	}
	l := cfg.NumPatches()
	noise := make([]float32, 0, n*l)
	for i := 0; i < n; i++ {
		noise = append(noise, model.RandomNoise(rand.New(rand.NewPCG(seed, uint64(i))), 1, l)...)
	}
	mk, err := rule.Mask(noise, n, rule.NumKeep(ratio))
	if err != nil {
		return nil, fmt.Errorf("eval set: %w", err)
	}
	set.Mask = mk
	return set, nil
}

// Metrics are pooled reconstruction metrics over an eval set (see
// package recon for the definitions).
type Metrics struct {
	MSE    float64 `json:"mse"`
	PSNR   float64 `json:"psnr_db"`
	Images int     `json:"images"`
}

func metricsOf(m *recon.Meter) Metrics {
	return Metrics{MSE: m.MSE(), PSNR: m.PSNR(), Images: m.Images}
}

// Baseline evaluates a non-learned baseline (recon.BaselineMean or
// recon.BaselineIDW) on the set through recon.Compose, the model's path.
func (s *EvalSet) Baseline(name string) (Metrics, error) {
	var meter recon.Meter
	for i, img := range s.Images {
		r, err := recon.Baseline(name, s.Config, s.Norm, img, recon.Masked(s.Mask, i))
		if err != nil {
			return Metrics{}, fmt.Errorf("baseline %s on %s: %w", name, s.Names[i], err)
		}
		meter.Add(r)
	}
	return metricsOf(&meter), nil
}

// Evaluator runs a model over an eval set in batches, keeping its passes.
type Evaluator struct {
	Set    *EvalSet
	m      Net
	batch  int
	passes map[int]Pass
}

// NewEvaluator evaluates m on set with batches of up to batch images.
func NewEvaluator(m Net, set *EvalSet, batch int) (*Evaluator, error) {
	if m.Geometry() != set.Config {
		return nil, fmt.Errorf("evaluator: model and eval set configurations differ")
	}
	if batch < 1 {
		return nil, fmt.Errorf("evaluator: batch %d < 1", batch)
	}
	return &Evaluator{Set: set, m: m, batch: batch, passes: map[int]Pass{}}, nil
}

// Evaluate reconstructs every image of the set with the model's current
// parameters and returns the pooled metrics.
func (e *Evaluator) Evaluate() (Metrics, error) {
	s := e.Set
	per := len(s.Images[0])
	var meter recon.Meter
	for from := 0; from < len(s.Images); from += e.batch {
		to := min(from+e.batch, len(s.Images))
		b := to - from
		pass, ok := e.passes[b]
		if !ok {
			var err error
			if pass, err = e.m.NewPass(b, s.Mask.K); err != nil {
				return Metrics{}, fmt.Errorf("evaluate: %w", err)
			}
			e.passes[b] = pass
		}
		images := make([]float32, 0, b*per)
		for _, img := range s.Images[from:to] {
			images = append(images, img...)
		}
		res, err := e.m.Reconstruct(pass, images, subMasking(s.Mask, from, to), s.Norm)
		if err != nil {
			return Metrics{}, fmt.Errorf("evaluate: %w", err)
		}
		for _, r := range res {
			meter.Add(r)
		}
	}
	return metricsOf(&meter), nil
}

// subMasking is samples [from, to) of a masking.
func subMasking(mk model.Masking, from, to int) model.Masking {
	return model.Masking{
		B: to - from, L: mk.L, K: mk.K,
		Keep:    mk.Keep[from*mk.K : to*mk.K],
		Restore: mk.Restore[from*mk.L : to*mk.L],
		Mask:    mk.Mask[from*mk.L : to*mk.L],
	}
}

// baselineNames are the baselines every run reports.
var baselineNames = []string{recon.BaselineMean, recon.BaselineIDW}

// Baselines measures every baseline of baselineNames on the set, by name.
func (s *EvalSet) Baselines() (map[string]Metrics, error) {
	b := map[string]Metrics{}
	for _, name := range baselineNames {
		m, err := s.Baseline(name)
		if err != nil {
			return nil, err
		}
		b[name] = m
	}
	return b, nil
}

// EvaluateModel measures parameters params of configuration cfg (a saved
// model) on set with backend k.
func EvaluateModel(k backend.Kernels, cfg model.Config, params []float32, set *EvalSet) (Metrics, error) {
	m, err := mae.New(k, cfg)
	if err != nil {
		return Metrics{}, err
	}
	if err := m.SetParams(params); err != nil {
		return Metrics{}, err
	}
	e, err := NewEvaluator(OfficialNet{m}, set, min(evalBatch, len(set.Images)))
	if err != nil {
		return Metrics{}, err
	}
	return e.Evaluate()
}
