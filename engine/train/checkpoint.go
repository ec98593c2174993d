package train

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"

	"webmae/engine/backend"
	"webmae/engine/fileio"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// File names in a run's output directory (DirStore).
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
	// ckImage+"N" is embedded training image N, (H, W, C) 8-bit values
	// stored as F16 (exact), with the names in metadata "data_images".
	ckImage = "data.image."
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

// save encodes the checkpoint (holding hooks.Lock), keeps it in the
// store and then, for an Exporter, writes the exports.
func (t *Trainer) save(hooks Hooks, final bool) error {
	var data []byte
	if err := locked(hooks.Lock, func() (err error) { data, err = t.encodeCheckpoint(); return err }); err != nil {
		return err
	}
	if err := t.Store.Save(data); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	t.saved = t.step
	if ex, ok := t.Store.(Exporter); ok {
		if err := locked(hooks.Lock, func() error { return ex.Export(t, final) }); err != nil {
			return err
		}
	}
	if hooks.OnSave != nil {
		hooks.OnSave(t.step)
	}
	return nil
}

func (t *Trainer) encodeCheckpoint() ([]byte, error) {
	params, err := t.Net.ReadParams()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	opt, err := t.Net.ReadOptimizer()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	rngState, err := t.src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: random state: %w", err)
	}
	cfgJSON, err := t.Net.MarshalConfig()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
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
		"family":      t.Net.Family(),
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
	half := embedImages(t.Data, tensors, meta)
	meta[ckDigest] = checkpointDigest(tensors, meta)
	var buf bytes.Buffer
	if err := model.WriteSafetensors(&buf, nil, tensors, meta, half); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

// embedImages adds the training images of an Embedded data set to a
// checkpoint; it returns which tensors are stored in half precision.
func embedImages(ds *Dataset, tensors map[string]model.HostTensor, meta map[string]string) func(string) bool {
	if !ds.Embedded {
		return nil
	}
	for i, p := range ds.Train {
		v := make([]float32, len(p.Pix))
		for j, b := range p.Pix {
			v[j] = float32(b)
		}
		tensors[ckImage+strconv.Itoa(i)] = model.HostTensor{Shape: []int{p.H, p.W, p.C}, F32: v}
	}
	names, _ := json.Marshal(ds.TrainNames)
	meta["data_images"] = string(names)
	return func(name string) bool { return strings.HasPrefix(name, ckImage) }
}

// embeddedImages rebuilds the data set a checkpoint embeds (nil when it
// embeds none).
func embeddedImages(tensors map[string]model.HostTensor, meta map[string]string, channels int) (*Dataset, error) {
	if meta["data_images"] == "" {
		return nil, nil
	}
	src := MemorySource{Name: meta["data"]}
	if err := json.Unmarshal([]byte(meta["data_images"]), &src.Names); err != nil {
		return nil, fmt.Errorf("embedded images: %w", err)
	}
	if err := json.Unmarshal([]byte(meta["norm"]), &src.Norm); err != nil {
		return nil, fmt.Errorf("embedded images: normalisation: %w", err)
	}
	for i := range src.Names {
		t, ok := tensors[ckImage+strconv.Itoa(i)]
		if !ok || t.IsInt() || len(t.Shape) != 3 {
			return nil, fmt.Errorf("embedded image %d is missing or not (H, W, C)", i)
		}
		p := recon.Pixels{H: t.Shape[0], W: t.Shape[1], C: t.Shape[2], Pix: make([]uint8, len(t.F32))}
		for j, v := range t.F32 {
			if !(v >= 0 && v <= 255) || v != float32(int(v)) {
				return nil, fmt.Errorf("embedded image %d holds %g, not an 8-bit value", i, v)
			}
			p.Pix[j] = uint8(v)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("embedded image %d: %w", i, err)
		}
		src.Images = append(src.Images, p)
	}
	return src.Load(channels)
}

// decodeCheckpoint parses and verifies a checkpoint (see parseCheckpoint).
func decodeCheckpoint(data []byte) (*savedCheckpoint, error) {
	tensors, meta, err := model.ReadSafetensors(data)
	if err != nil {
		return nil, err
	}
	return parseCheckpoint(tensors, meta)
}

// DamagedError is a stored checkpoint that cannot be used: not a
// checkpoint, cut short, damaged or inconsistent. Its text is the cause's.
type DamagedError struct{ Err error }

func (e *DamagedError) Error() string { return e.Err.Error() }
func (e *DamagedError) Unwrap() error { return e.Err }

// errNoCheckpoint marks a store that holds no checkpoint.
var errNoCheckpoint = errors.New("no checkpoint")

// loadOne loads and verifies the checkpoint that load returns; where
// names it in errors.
func loadOne(load func() ([]byte, bool, error), where string) (*savedCheckpoint, error) {
	data, found, err := load()
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s holds %w", where, errNoCheckpoint)
	}
	ck, err := decodeCheckpoint(data)
	if err != nil {
		return nil, &DamagedError{Err: fmt.Errorf("checkpoint in %s: %w", where, err)}
	}
	ck.from = where
	return ck, nil
}

// loadCheckpoint reads and verifies the newest intact checkpoint of store:
// the current one or, for a PreviousStore whose current one is missing or
// damaged, the previous one; skipped then says what was wrong with the
// current one. With neither usable the error names both problems.
func loadCheckpoint(store Store) (ck *savedCheckpoint, skipped error, err error) {
	ck, errCur := loadOne(store.Load, store.String())
	if errCur == nil {
		return ck, nil, nil
	}
	ps, ok := store.(PreviousStore)
	if !ok {
		return nil, nil, errCur
	}
	prev, errPrev := loadOne(ps.LoadPrevious, ps.PreviousString())
	switch {
	case errPrev == nil:
		return prev, errCur, nil
	case errors.Is(errPrev, errNoCheckpoint):
		return nil, nil, errCur
	case errors.Is(errCur, errNoCheckpoint):
		return nil, nil, fmt.Errorf("%v; the previous checkpoint is not usable: %w", errCur, errPrev)
	}
	return nil, nil, fmt.Errorf("%w; the previous checkpoint is not usable either: %v", errCur, errPrev)
}

// Resume continues the run saved in store on backend k with data set ds
// (the same split; nil for the images the checkpoint embeds) and options
// opts, which must equal the saved ones except Steps, EvalEvery and F16.
// The model, AdamW moments, step, random state and history are restored
// exactly. The newest checkpoint is used when it is intact; when it is
// damaged and store is a PreviousStore (see ReadInfo), the previous one
// is, and the damaged one is set aside so that the next save does not
// keep it.
func Resume(k backend.Kernels, ds *Dataset, store Store, opts Options) (*Trainer, error) {
	ck, skipped, err := loadCheckpoint(store)
	if err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	if skipped != nil {
		if err := store.(PreviousStore).SetAside(); err != nil {
			return nil, fmt.Errorf("resume: set the damaged checkpoint aside: %w", err)
		}
	}
	fail := func(format string, args ...any) (*Trainer, error) {
		return nil, fmt.Errorf("resume %s: "+format, append([]any{ck.from}, args...)...)
	}
	cfg, saved := ck.cfg, ck.opts
	if ds == nil {
		if ds, err = embeddedImages(ck.tensors, ck.meta, cfg.NumChannels); err != nil {
			return fail("%v", err)
		}
		if ds == nil {
			return fail("the checkpoint does not hold its training images (%s); give the data set", ck.data)
		}
	}
	m, err := newNet(k, ck.meta["family"], []byte(ck.meta["config"]))
	if err != nil {
		return fail("%v", err)
	}
	if err := opts.fill(m); err != nil {
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
	if err := m.SetParams(ck.params); err != nil {
		return fail("%v", err)
	}
	if err := m.SetOptimizer(mae.OptimizerState{Steps: ck.adamSteps, M: ck.m, V: ck.v}); err != nil {
		return fail("%v", err)
	}
	t, err := newTrainer(m, ds, store, opts, src)
	if err != nil {
		return fail("%v", err)
	}
	t.step, t.saved = ck.step, ck.step
	t.losses, t.lrs, t.evals = ck.losses, ck.lrs, ck.evals
	return t, nil
}

// writeExports writes model.safetensors, config.json,
// preprocessor_config.json, train.csv and the loss-curve SVG into dir.
func (t *Trainer) writeExports(dir string) error {
	cfg := t.Net.Geometry()
	if err := t.Net.SaveModel(dir, t.Opts.F16); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	pre, err := recon.MarshalPreprocessor(t.Data.Norm, cfg.ImageSize)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(dir, recon.PreprocessorFileName), func(w io.Writer) error {
		_, err := w.Write(pre)
		return err
	}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(dir, CSVFileName), t.WriteCSV); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := fileio.WriteAtomic(filepath.Join(dir, SVGFileName), t.WriteSVG); err != nil {
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

func (t *Trainer) writeQuality(dir string) error {
	q, err := t.QualityReport()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(q, "", "  ")
	if err != nil {
		return fmt.Errorf("quality: %w", err)
	}
	return fileio.WriteAtomic(filepath.Join(dir, QualityFileName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Info describes a saved run without restoring it.
type Info struct {
	// Family is the model family (FamilyOfficial, FamilyTutorial).
	Family string
	// Config is the official config, or the tutorial config's Geometry.
	Config  model.Config
	Options Options
	Step    int
	Losses  []float32 // the loss of every step done
	Data    string    // the data set it trains on
	// Embedded says the checkpoint holds its training images, so Resume
	// needs no data set.
	Embedded bool
	// From says where the checkpoint read is kept; Skipped, when not nil,
	// says why the newest one was not used (it is missing or damaged) and
	// From is the previous one, which Resume continues.
	From    string
	Skipped error
	// Unverified marks a checkpoint of format 1, written without a digest.
	Unverified bool
}

// ReadInfo reads and verifies the run saved in store (the checkpoint
// Resume would continue) without building its model; found is false when
// the store holds no checkpoint.
func ReadInfo(store Store) (info Info, found bool, err error) {
	ck, skipped, err := loadCheckpoint(store)
	if errors.Is(err, errNoCheckpoint) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, true, err
	}
	family := ck.meta["family"]
	if family == "" {
		family = FamilyOfficial
	}
	return Info{Family: family, Config: ck.cfg, Options: ck.opts, Step: ck.step, Losses: ck.losses, Data: ck.data,
		Embedded: ck.meta["data_images"] != "", From: ck.from, Skipped: skipped, Unverified: ck.unverified}, true, nil
}
