package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
)

// TrainSettings are the values of the training form.
type TrainSettings struct {
	Preset string  `json:"preset"`
	Batch  int     `json:"batch"`
	Steps  int     `json:"steps"`
	BaseLR float64 `json:"base_lr"`
	Warmup int     `json:"warmup"`
	Seed   uint64  `json:"seed"`
}

// TrainPresets are the presets the page trains (base is too large for a
// browser tab).
var TrainPresets = []string{model.PresetMicro, model.PresetTiny}

// DefaultTrainSettings is the form at start: a short run that visibly
// learns in a tab. The base learning rate is higher than the official
// 1.5e-4 because a browser run lasts tens of steps, not hundreds of
// epochs; lr = base_lr * batch / 256 as in the official recipe.
func DefaultTrainSettings() TrainSettings {
	return TrainSettings{Preset: model.PresetMicro, Batch: 16, Steps: 200, BaseLR: 0.05, Warmup: 5}
}

// Limits of the training form.
const (
	MaxTrainBatch = 256
	MaxTrainSteps = 1_000_000
)

// Validate reports every unusable value of the form.
func (s TrainSettings) Validate() error {
	var errs []error
	if _, err := model.Preset(s.Preset); err != nil || !slices.Contains(TrainPresets, s.Preset) {
		errs = append(errs, fmt.Errorf("preset %q cannot be trained here (choose %v)", s.Preset, TrainPresets))
	}
	if s.Batch < 1 || s.Batch > MaxTrainBatch {
		errs = append(errs, fmt.Errorf("batch size %d is outside 1..%d", s.Batch, MaxTrainBatch))
	}
	if s.Steps < 1 || s.Steps > MaxTrainSteps {
		errs = append(errs, fmt.Errorf("steps %d is outside 1..%d", s.Steps, MaxTrainSteps))
	}
	if !(s.BaseLR > 0 && s.BaseLR <= 10) {
		errs = append(errs, fmt.Errorf("base learning rate %g is outside (0, 10]", s.BaseLR))
	}
	if s.Warmup < 0 || s.Warmup > s.Steps {
		errs = append(errs, fmt.Errorf("warmup %d is outside 0..steps (%d)", s.Warmup, s.Steps))
	}
	return errors.Join(errs...)
}

// Schedule is the run's learning-rate schedule (engine/train's).
func (s TrainSettings) Schedule() train.Schedule {
	return train.Schedule{BaseLR: s.BaseLR, Batch: s.Batch, Warmup: s.Warmup, Steps: s.Steps}
}

// TrainSide bounds the longer side of a training image: random resized
// crops of at least 20% of the area of a 256 px image still downscale to
// the 32 or 64 px inputs of the presets, and the images stay small enough
// to be saved with the run.
const TrainSide = 256

// shrink returns p with its longer side at most side pixels (bicubic,
// antialiased), rounded back to 8 bits.
func shrink(p recon.Pixels, side int) (recon.Pixels, error) {
	if p.W <= side && p.H <= side {
		return p, nil
	}
	w, h := side, side
	if p.W > p.H {
		h = max(1, int(math.Round(float64(p.H)*float64(side)/float64(p.W))))
	} else {
		w = max(1, int(math.Round(float64(p.W)*float64(side)/float64(p.H))))
	}
	img, err := p.Resize(recon.Box{X1: float64(p.W), Y1: float64(p.H)}, w, h, recon.Bicubic)
	if err != nil {
		return recon.Pixels{}, fmt.Errorf("shrink: %w", err)
	}
	return chwToPixels(img, p.C, h, w), nil
}

// chwToPixels rounds a (C, H, W) image in [0, 1] to 8-bit pixels.
func chwToPixels(img []float32, c, h, w int) recon.Pixels {
	out := recon.Pixels{W: w, H: h, C: c, Pix: make([]uint8, w*h*c)}
	for ch := 0; ch < c; ch++ {
		for i := 0; i < w*h; i++ {
			out.Pix[i*c+ch] = uint8(math.Round(float64(min(max(img[ch*w*h+i], 0), 1)) * 255))
		}
	}
	return out
}

// trainRun is a training run in the page: the model with its AdamW
// state, the training images and the loss history. Step t draws its batch,
// augmentation and masks from a generator seeded with (Seed, t), so a run
// restored from a checkpoint continues exactly as if never interrupted.
type trainRun struct {
	Settings TrainSettings
	Model    *mae.Model
	Norm     recon.Norm
	Images   []recon.Pixels // the training set, at most TrainSide, with the model's channels
	Names    []string
	Losses   []float32 // one per step taken
	pass     *mae.Pass
	batch    []float32
}

// newTrainRun prepares a run of m on images (any size; shrunk to
// TrainSide and converted to the model's channels). The run starts with a
// fresh optimizer: step 0, zero AdamW moments.
func newTrainRun(m *mae.Model, norm recon.Norm, s TrainSettings, images []recon.Pixels, names []string) (*trainRun, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("training settings: %w", err)
	}
	if len(images) == 0 || len(images) != len(names) {
		return nil, fmt.Errorf("training needs at least one image (have %d, %d names)", len(images), len(names))
	}
	if err := norm.Validate(m.Config.NumChannels); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	if err := m.SetOptimizer(mae.OptimizerState{}); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	r := &trainRun{Settings: s, Model: m, Norm: norm, Names: names}
	for i, p := range images {
		p, err := p.WithChannels(m.Config.NumChannels)
		if err == nil {
			p, err = shrink(p, TrainSide)
		}
		if err != nil {
			return nil, fmt.Errorf("training image %s: %w", names[i], err)
		}
		r.Images = append(r.Images, p)
	}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *trainRun) prepare() error {
	c := r.Model.Config
	pass, err := r.Model.NewPass(r.Settings.Batch, c.NumKeep(c.MaskRatio))
	if err != nil {
		return fmt.Errorf("training: %w", err)
	}
	r.pass = pass
	r.batch = make([]float32, 0, r.Settings.Batch*c.NumChannels*c.ImageSize*c.ImageSize)
	return nil
}

// Step is the number of steps taken.
func (r *trainRun) Step() int { return r.Model.Steps() }

// Done reports whether every step of the run was taken.
func (r *trainRun) Done() bool { return r.Step() >= r.Settings.Steps }

// TrainStep takes one optimisation step and returns its loss (the loss of
// the batch before the update).
func (r *trainRun) TrainStep() (float32, error) {
	t := r.Step()
	c := r.Model.Config
	rng := rand.New(rand.NewPCG(r.Settings.Seed, uint64(t)))
	r.batch = r.batch[:0]
	for b := 0; b < r.Settings.Batch; b++ {
		img, err := train.Augment(rng, r.Images[rng.IntN(len(r.Images))], c.ImageSize, r.Norm)
		if err != nil {
			return 0, fmt.Errorf("step %d: augment: %w", t+1, err)
		}
		r.batch = append(r.batch, img...)
	}
	l := c.NumPatches()
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, r.Settings.Batch, l), r.Settings.Batch, l, r.pass.K)
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", t+1, err)
	}
	if err := r.pass.SetInputs(r.batch, mk); err != nil {
		return 0, fmt.Errorf("step %d: %w", t+1, err)
	}
	r.pass.Forward()
	r.pass.Backward()
	r.Model.AdamW(r.Settings.Schedule().LR(t))
	if err := r.Model.K.Submit(); err != nil {
		return 0, fmt.Errorf("step %d: %w", t+1, err)
	}
	loss, err := r.pass.Loss()
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", t+1, err)
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, fmt.Errorf("step %d: the loss is %g; lower the learning rate", t+1, loss)
	}
	r.Losses = append(r.Losses, loss)
	return loss, nil
}

// Checkpoint format: one safetensors file holding the parameters, both
// AdamW moments, the loss history and the training images (F16, exact for
// 8-bit values), with the configuration, settings, normalisation, image
// names and step count in the metadata.
const (
	runFormat  = "webmae-browser-run"
	runVersion = "1"
)

type runMeta struct {
	Settings TrainSettings `json:"settings"`
	Norm     recon.Norm    `json:"norm"`
	Names    []string      `json:"names"`
	Shapes   [][3]int      `json:"shapes"` // H, W, C of each image
}

// Checkpoint encodes the run.
func (r *trainRun) Checkpoint() ([]byte, error) {
	params, err := r.Model.ReadParams()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	opt, err := r.Model.ReadOptimizer()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	cfgJSON, err := r.Model.Config.MarshalHF()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	meta := runMeta{Settings: r.Settings, Norm: r.Norm, Names: r.Names}
	tensors := map[string]model.HostTensor{
		"params": {Shape: []int{len(params)}, F32: params},
		"losses": {Shape: []int{len(r.Losses)}, F32: r.Losses},
	}
	if opt.M != nil {
		tensors["adam_m"] = model.HostTensor{Shape: []int{len(opt.M)}, F32: opt.M}
		tensors["adam_v"] = model.HostTensor{Shape: []int{len(opt.V)}, F32: opt.V}
	}
	for i, p := range r.Images {
		v := make([]float32, len(p.Pix))
		for j, b := range p.Pix {
			v[j] = float32(b)
		}
		tensors["image."+strconv.Itoa(i)] = model.HostTensor{Shape: []int{p.H, p.W, p.C}, F32: v}
		meta.Shapes = append(meta.Shapes, [3]int{p.H, p.W, p.C})
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	md := map[string]string{
		"format": runFormat, "version": runVersion, "config": string(cfgJSON),
		"run": string(metaJSON), "step": strconv.Itoa(opt.Steps),
	}
	var buf bytes.Buffer
	half := func(name string) bool { return strings.HasPrefix(name, "image.") }
	if err := model.WriteSafetensors(&buf, nil, tensors, md, half); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

// RunInfo describes a saved run without restoring it.
type RunInfo struct {
	Settings TrainSettings
	Step     int
	Loss     float32 // the last loss, NaN before the first step
	Config   model.Config
}

// readCheckpoint parses a checkpoint.
func readCheckpoint(data []byte) (RunInfo, map[string]model.HostTensor, runMeta, error) {
	tensors, md, err := model.ReadSafetensors(data)
	if err != nil {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: %w", err)
	}
	if md["format"] != runFormat || md["version"] != runVersion {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: not a %s v%s file (format %q, version %q)", runFormat, runVersion, md["format"], md["version"])
	}
	cfg, err := model.ParseConfig([]byte(md["config"]))
	if err != nil {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: %w", err)
	}
	var meta runMeta
	if err := json.Unmarshal([]byte(md["run"]), &meta); err != nil {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: metadata: %w", err)
	}
	step, err := strconv.Atoi(md["step"])
	if err != nil || step < 0 {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: bad step %q", md["step"])
	}
	losses := tensors["losses"].F32
	if len(losses) != step {
		return RunInfo{}, nil, runMeta{}, fmt.Errorf("saved run: %d losses for %d steps", len(losses), step)
	}
	info := RunInfo{Settings: meta.Settings, Step: step, Loss: float32(math.NaN()), Config: cfg}
	if step > 0 {
		info.Loss = losses[step-1]
	}
	return info, tensors, meta, nil
}

// restoreRun rebuilds a run saved by Checkpoint on backend k.
func restoreRun(k backend.Kernels, data []byte) (*trainRun, error) {
	info, tensors, meta, err := readCheckpoint(data)
	if err != nil {
		return nil, err
	}
	m, err := mae.New(k, info.Config)
	if err != nil {
		return nil, fmt.Errorf("saved run: %w", err)
	}
	if err := m.SetParams(tensors["params"].F32); err != nil {
		return nil, fmt.Errorf("saved run: %w", err)
	}
	opt := mae.OptimizerState{Steps: info.Step, M: tensors["adam_m"].F32, V: tensors["adam_v"].F32}
	if err := m.SetOptimizer(opt); err != nil {
		return nil, fmt.Errorf("saved run: %w", err)
	}
	if len(meta.Shapes) != len(meta.Names) || len(meta.Names) == 0 {
		return nil, fmt.Errorf("saved run: %d image shapes for %d names", len(meta.Shapes), len(meta.Names))
	}
	r := &trainRun{Settings: meta.Settings, Model: m, Norm: meta.Norm, Names: meta.Names,
		Losses: append([]float32(nil), tensors["losses"].F32...)}
	for i, sh := range meta.Shapes {
		t, ok := tensors["image."+strconv.Itoa(i)]
		p := recon.Pixels{H: sh[0], W: sh[1], C: sh[2]}
		if !ok || len(t.F32) != p.W*p.H*p.C {
			return nil, fmt.Errorf("saved run: image %d is missing or has the wrong size", i)
		}
		p.Pix = make([]uint8, len(t.F32))
		for j, v := range t.F32 {
			p.Pix[j] = uint8(v)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("saved run: image %d: %w", i, err)
		}
		r.Images = append(r.Images, p)
	}
	if err := meta.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("saved run: %w", err)
	}
	if err := meta.Norm.Validate(info.Config.NumChannels); err != nil {
		return nil, fmt.Errorf("saved run: %w", err)
	}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	return r, nil
}
