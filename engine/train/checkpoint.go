package train

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"webmae/engine/backend"
	"webmae/engine/fileio"
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
	meta[ckDigest] = checkpointDigest(tensors, meta)
	if err := keepPrevious(t.Dir); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := model.SaveSafetensorsFile(filepath.Join(t.Dir, CheckpointFileName), nil, tensors, meta, nil); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Resume continues the run saved in dir on backend k with data set ds
// (the same split) and options opts, which must equal the saved ones
// except Steps, EvalEvery and F16. The model, AdamW moments, step, random
// state and history are restored exactly. The newest checkpoint is used
// when it is intact; when it is damaged (see InspectCheckpoint) the
// previous one is, and the damaged file is moved aside to
// checkpoint.damaged.safetensors so that the next save does not keep it.
func Resume(k backend.Kernels, ds *Dataset, dir string, opts Options) (*Trainer, error) {
	ck, skipped, err := readCheckpoint(dir)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if skipped != nil {
		if err := os.Rename(filepath.Join(dir, CheckpointFileName), filepath.Join(dir, DamagedCheckpointFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("resume: set the damaged checkpoint aside: %w", err)
		}
	}
	fail := func(format string, args ...any) (*Trainer, error) {
		return nil, fmt.Errorf("resume %s: "+format, append([]any{ck.path}, args...)...)
	}
	cfg, saved := ck.cfg, ck.opts
	if err := opts.fill(cfg); err != nil {
		return fail("options: %v", err)
	}
	if opts.Batch != saved.Batch || opts.BaseLR != saved.BaseLR || opts.Warmup != saved.Warmup || opts.Seed != saved.Seed ||
		opts.MaskRatio != saved.MaskRatio || opts.EvalImages != saved.EvalImages {
		return fail("saved with batch %d, base lr %g, warmup %d, seed %d, mask ratio %g, eval images %d; asked for %d, %g, %d, %d, %g, %d (only steps, eval interval and F16 may change)",
			saved.Batch, saved.BaseLR, saved.Warmup, saved.Seed, saved.MaskRatio, saved.EvalImages,
			opts.Batch, opts.BaseLR, opts.Warmup, opts.Seed, opts.MaskRatio, opts.EvalImages)
	}
	if fp := dataFingerprint(ds); fp != ck.dataSplit {
		return fail("the data set %s differs from the one trained on (%s): split fingerprint %s, saved %s", ds.Source, ck.data, fp, ck.dataSplit)
	}
	if ck.step > opts.Steps {
		return fail("it is at step %d, beyond the %d steps asked", ck.step, opts.Steps)
	}
	src := &rand.PCG{}
	if err := src.UnmarshalBinary(ck.rng); err != nil {
		return fail("random state: %v", err)
	}
	m, err := mae.New(k, cfg)
	if err != nil {
		return fail("%v", err)
	}
	if err := m.SetParams(ck.params); err != nil {
		return fail("%v", err)
	}
	if err := m.SetOptimizer(mae.OptimizerState{Steps: ck.adamSteps, M: ck.m, V: ck.v}); err != nil {
		return fail("%v", err)
	}
	t, err := newTrainer(m, ds, dir, opts, src)
	if err != nil {
		return fail("%v", err)
	}
	t.step, t.saved = ck.step, ck.step
	t.losses, t.lrs, t.evals = ck.losses, ck.lrs, ck.evals
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
	if err := fileio.WriteAtomic(filepath.Join(t.Dir, recon.PreprocessorFileName), func(w io.Writer) error {
		_, err := w.Write(pre)
		return err
	}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(t.Dir, CSVFileName), t.WriteCSV); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(t.Dir, SVGFileName), t.WriteSVG); err != nil {
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
	return fileio.WriteAtomic(filepath.Join(t.Dir, QualityFileName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// SavedRun describes the checkpoint that Resume would continue.
type SavedRun struct {
	Config  model.Config
	Options Options
	Step    int
	// Path is the checkpoint file used; Skipped, when not nil, says why
	// the newest checkpoint was not (it is damaged) and Path is the
	// previous one.
	Path    string
	Skipped error
	// Unverified marks a checkpoint of format 1, written without a digest.
	Unverified bool
}

// InspectCheckpoint reads and verifies the run saved in dir (see
// readCheckpoint) without loading it into a model.
func InspectCheckpoint(dir string) (SavedRun, error) {
	ck, skipped, err := readCheckpoint(dir)
	if err != nil {
		return SavedRun{}, err
	}
	return SavedRun{Config: ck.cfg, Options: ck.opts, Step: ck.step, Path: ck.path, Skipped: skipped, Unverified: ck.unverified}, nil
}
