package train

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// File names in a run's output directory.
const (
	CheckpointFileName = "checkpoint.safetensors"
	CSVFileName        = "train.csv"
	SVGFileName        = "loss.svg"
	QualityFileName    = "quality.json"
)

// checkpointFormat identifies the checkpoint layout.
const checkpointFormat = "webmae-train-checkpoint-1"

// Checkpoint tensors (flat, in model.Layout order) and metadata keys.
const (
	ckParams = "params"
	ckM      = "adamw.exp_avg"
	ckV      = "adamw.exp_avg_sq"
	ckLoss   = "history.loss"
	ckLR     = "history.lr"
)

// dataFingerprint identifies a data set's split: the FNV-1a hash of every
// training and held-out name, in order.
func dataFingerprint(ds *Dataset) string {
	h := fnv.New64a()
	for _, names := range [][]string{ds.TrainNames, {"\x00held"}, ds.HeldNames} {
		for _, n := range names {
			h.Write([]byte(n))
			h.Write([]byte{0})
		}
	}
	return fmt.Sprintf("%016x/%d/%d", h.Sum64(), len(ds.TrainNames), len(ds.HeldNames))
}

// save writes the checkpoint and then the exports (model, configs,
// reports), each atomically.
func (t *Trainer) save(hooks Hooks) error {
	if err := t.writeCheckpoint(); err != nil {
		return err
	}
	t.saved = t.step
	if err := t.writeExports(); err != nil {
		return err
	}
	if hooks.OnSave != nil {
		hooks.OnSave(t.step)
	}
	return nil
}

func (t *Trainer) writeCheckpoint() error {
	params, err := t.Model.ReadParams()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	opt, err := t.Model.ReadOptimizer()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	rngState, err := t.src.MarshalBinary()
	if err != nil {
		return fmt.Errorf("checkpoint: random state: %w", err)
	}
	cfgJSON, err := t.Model.Config.MarshalHF()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	optsJSON, _ := json.Marshal(t.Opts)
	evalsJSON, _ := json.Marshal(t.evals)
	normJSON, _ := json.Marshal(t.Data.Norm)
	flat := func(v []float32) model.HostTensor { return model.HostTensor{Shape: []int{len(v)}, F32: v} }
	tensors := map[string]model.HostTensor{ckParams: flat(params), ckLoss: flat(t.losses), ckLR: flat(t.lrs)}
	if opt.M != nil {
		tensors[ckM], tensors[ckV] = flat(opt.M), flat(opt.V)
	}
	meta := map[string]string{
		"format":      checkpointFormat,
		"step":        strconv.Itoa(t.step),
		"adamw_steps": strconv.Itoa(opt.Steps),
		"rng":         hex.EncodeToString(rngState),
		"config":      string(cfgJSON),
		"options":     string(optsJSON),
		"evals":       string(evalsJSON),
		"norm":        string(normJSON),
		"data":        t.Data.Source,
		"data_split":  dataFingerprint(t.Data),
	}
	if err := model.SaveSafetensorsFile(filepath.Join(t.Dir, CheckpointFileName), nil, tensors, meta, nil); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Resume continues the run saved in dir on backend k with data set ds
// (the same split) and options opts, which must equal the saved ones
// except Steps, EvalEvery and F16. The model, AdamW moments, step, random
// state and history are restored exactly.
func Resume(k backend.Kernels, ds *Dataset, dir string, opts Options) (*Trainer, error) {
	path := filepath.Join(dir, CheckpointFileName)
	tensors, meta, err := model.LoadSafetensorsFile(path)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	fail := func(format string, args ...any) (*Trainer, error) {
		return nil, fmt.Errorf("resume %s: "+format, append([]any{path}, args...)...)
	}
	if meta["format"] != checkpointFormat {
		return fail("format %q is not %s", meta["format"], checkpointFormat)
	}
	cfg, err := model.ParseConfig([]byte(meta["config"]))
	if err != nil {
		return fail("%v", err)
	}
	var saved Options
	if err := json.Unmarshal([]byte(meta["options"]), &saved); err != nil {
		return fail("options: %v", err)
	}
	if err := opts.fill(cfg); err != nil {
		return fail("options: %v", err)
	}
	if opts.Batch != saved.Batch || opts.BaseLR != saved.BaseLR || opts.Warmup != saved.Warmup || opts.Seed != saved.Seed ||
		opts.MaskRatio != saved.MaskRatio || opts.EvalImages != saved.EvalImages {
		return fail("saved with batch %d, base lr %g, warmup %d, seed %d, mask ratio %g, eval images %d; asked for %d, %g, %d, %d, %g, %d (only steps, eval interval and F16 may change)",
			saved.Batch, saved.BaseLR, saved.Warmup, saved.Seed, saved.MaskRatio, saved.EvalImages,
			opts.Batch, opts.BaseLR, opts.Warmup, opts.Seed, opts.MaskRatio, opts.EvalImages)
	}
	if fp := dataFingerprint(ds); fp != meta["data_split"] {
		return fail("the data set %s differs from the one trained on (%s): split fingerprint %s, saved %s", ds.Source, meta["data"], fp, meta["data_split"])
	}
	step, err1 := strconv.Atoi(meta["step"])
	adamSteps, err2 := strconv.Atoi(meta["adamw_steps"])
	rngState, err3 := hex.DecodeString(meta["rng"])
	if err1 != nil || err2 != nil || err3 != nil {
		return fail("bad step, AdamW step or random state")
	}
	if step > opts.Steps {
		return fail("it is at step %d, beyond the %d steps asked", step, opts.Steps)
	}
	src := &rand.PCG{}
	if err := src.UnmarshalBinary(rngState); err != nil {
		return fail("random state: %v", err)
	}
	m, err := mae.New(k, cfg)
	if err != nil {
		return fail("%v", err)
	}
	get := func(name string, n int) ([]float32, error) {
		t, ok := tensors[name]
		if !ok || t.IsInt() || len(t.F32) != n {
			return nil, fmt.Errorf("tensor %s missing or not %d floats", name, n)
		}
		return t.F32, nil
	}
	params, err := get(ckParams, m.Layout.Total)
	if err != nil {
		return fail("%v", err)
	}
	if err := m.SetParams(params); err != nil {
		return fail("%v", err)
	}
	opt := mae.OptimizerState{Steps: adamSteps}
	if _, ok := tensors[ckM]; ok {
		if opt.M, err = get(ckM, m.Layout.Total); err != nil {
			return fail("%v", err)
		}
		if opt.V, err = get(ckV, m.Layout.Total); err != nil {
			return fail("%v", err)
		}
	}
	if err := m.SetOptimizer(opt); err != nil {
		return fail("%v", err)
	}
	t, err := newTrainer(m, ds, dir, opts, src)
	if err != nil {
		return fail("%v", err)
	}
	t.step, t.saved = step, step
	if t.losses, err = get(ckLoss, step); err != nil {
		return fail("%v", err)
	}
	if t.lrs, err = get(ckLR, step); err != nil {
		return fail("%v", err)
	}
	if err := json.Unmarshal([]byte(meta["evals"]), &t.evals); err != nil {
		return fail("evals: %v", err)
	}
	return t, nil
}

// writeExports writes model.safetensors, config.json,
// preprocessor_config.json, train.csv and the loss-curve SVG.
func (t *Trainer) writeExports() error {
	params, err := t.Model.ReadParams()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	cfg := t.Model.Config
	if err := model.SaveModel(t.Dir, cfg, t.Model.Layout, params, t.Opts.F16); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	pre, err := recon.MarshalPreprocessor(t.Data.Norm, cfg.ImageSize)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, recon.PreprocessorFileName), func(w io.Writer) error {
		_, err := w.Write(pre)
		return err
	}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, CSVFileName), t.WriteCSV); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := model.WriteFileAtomic(filepath.Join(t.Dir, SVGFileName), t.WriteSVG); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// Quality is the content of quality.json: the final model's metrics and
// the baselines' on the same eval set.
type Quality struct {
	Step    int    `json:"step"`
	Data    string `json:"data"`
	EvalSet string `json:"eval_set"`
	// HeldOut names the held-out images of an image directory (the
	// --holdout that reproduces the split); empty for Fashion-MNIST.
	HeldOut    []string           `json:"held_out,omitempty"`
	EvalImages int                `json:"eval_images"`
	Ratio      float64            `json:"mask_ratio"`
	MaskSeed   uint64             `json:"mask_seed"`
	Model      Metrics            `json:"model"`
	Baselines  map[string]Metrics `json:"baselines"`
	Metric     string             `json:"metric"`
}

// QualityReport returns the quality of the last evaluation.
func (t *Trainer) QualityReport() (Quality, error) {
	if len(t.evals) == 0 {
		return Quality{}, fmt.Errorf("quality: no evaluation yet")
	}
	last := t.evals[len(t.evals)-1]
	held := fmt.Sprintf("%d held-out images", len(t.Data.HeldNames))
	if len(t.Data.HeldNames) <= 8 {
		held = fmt.Sprintf("held-out %q", t.Data.HeldNames)
	}
	var heldOut []string
	if t.Data.CropEval {
		heldOut = t.Data.HeldNames
	}
	return Quality{
		Step: last.Step, Data: t.Data.Source, HeldOut: heldOut, EvalImages: len(t.Eval.Images),
		EvalSet: fmt.Sprintf("%d images from %s", len(t.Eval.Images), held),
		Ratio:   t.Eval.Ratio, MaskSeed: t.Eval.MaskSeed, Model: last.Metrics, Baselines: t.Baselines,
		Metric: "mse: masked-patch MSE in normalised pixel space; psnr_db: 10 log10(1/MSE) on the de-normalised [0,1] image (reconstruction clamped), pooled over all masked values",
	}, nil
}

func (t *Trainer) writeQuality() error {
	q, err := t.QualityReport()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(q, "", "  ")
	if err != nil {
		return fmt.Errorf("quality: %w", err)
	}
	return model.WriteFileAtomic(filepath.Join(t.Dir, QualityFileName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// CheckpointInfo reads the configuration, options and step of the run
// saved in dir without loading its tensors' values into a model.
func CheckpointInfo(dir string) (model.Config, Options, int, error) {
	path := filepath.Join(dir, CheckpointFileName)
	_, meta, err := model.LoadSafetensorsFile(path)
	if err != nil {
		return model.Config{}, Options{}, 0, fmt.Errorf("checkpoint: %w", err)
	}
	if meta["format"] != checkpointFormat {
		return model.Config{}, Options{}, 0, fmt.Errorf("checkpoint %s: format %q is not %s", path, meta["format"], checkpointFormat)
	}
	cfg, err := model.ParseConfig([]byte(meta["config"]))
	if err != nil {
		return model.Config{}, Options{}, 0, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	var opts Options
	if err := json.Unmarshal([]byte(meta["options"]), &opts); err != nil {
		return model.Config{}, Options{}, 0, fmt.Errorf("checkpoint %s: options: %w", path, err)
	}
	step, err := strconv.Atoi(meta["step"])
	if err != nil {
		return model.Config{}, Options{}, 0, fmt.Errorf("checkpoint %s: step: %w", path, err)
	}
	return cfg, opts, step, nil
}
