package ui

import (
	"errors"
	"fmt"
	"slices"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
	"webmae/engine/tutorial"
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

// The form's model choices: PresetCurrent fine-tunes the model the page
// shows (any family, any size); the others start a fresh model, which
// replaces it.
const (
	PresetCurrent = "current"
	// PresetTutorial trains TutorialTrainConfig, the tutorial's family
	// (engine/tutorial), from a fresh initialisation.
	PresetTutorial = "tutorial"
)

// TrainPresets are the form's model choices, the default first (base is
// too large to train in a browser tab).
var TrainPresets = []string{PresetCurrent, model.PresetMicro, model.PresetTiny, PresetTutorial}

// TutorialTrainConfig is the tutorial model the page trains from scratch:
// the shape of testdata/tutorial/tutorial_mae.config.json (32 px, patch 4,
// 64 wide x 2 layers, decoder 48 x 2; 172,938 parameters).
var TutorialTrainConfig = tutorial.Config{Architecture: tutorial.Architecture, ImageSize: 32, PatchSize: 4, Channels: 3,
	NumClasses: 10, Dim: 64, Depth: 2, Heads: 4, DimHead: 16, MlpDimRatio: 4, Pool: "cls", DecoderDim: 48, DecoderDepth: 2,
	DecoderHeads: 3, DecoderDimHead: 16, MaskingRatio: 0.75}

// Learning rates of the form's defaults (lr = base_lr * batch / 256, as in
// the official recipe). A fresh model learns visibly in tens of steps at
// FreshBaseLR, far above the official 1.5e-4 because a browser run lasts
// tens of steps, not hundreds of epochs. Fine-tuning a trained model at
// that rate undoes its training; FineTuneBaseLR keeps the bundled default
// model's held-out masked MSE from rising over the first 10 steps
// (TestFineTuneDefaultKeepsModel; the measured rates are in its comment).
const (
	FreshBaseLR    = 0.05
	FreshWarmup    = 5
	FineTuneBaseLR = 1e-4
	FineTuneWarmup = 5
	FineTuneBatch  = 8
)

// DefaultTrainSettings is the form at start: fine-tuning the loaded model.
func DefaultTrainSettings() TrainSettings { return PresetDefaults(PresetCurrent) }

// PresetDefaults is the form for a model choice: the fine-tuning learning
// rate for the loaded model, the fresh one for a new model.
func PresetDefaults(preset string) TrainSettings {
	if preset == PresetCurrent {
		return TrainSettings{Preset: preset, Batch: FineTuneBatch, Steps: 100, BaseLR: FineTuneBaseLR, Warmup: FineTuneWarmup}
	}
	return TrainSettings{Preset: preset, Batch: 16, Steps: 200, BaseLR: FreshBaseLR, Warmup: FreshWarmup}
}

// ReplacesModel says whether starting a run with s puts a fresh model in
// place of the one the page shows (the page asks first).
func (s TrainSettings) ReplacesModel() bool { return s.Preset != PresetCurrent }

// Limits of the training form.
const (
	MaxTrainBatch = 256
	MaxTrainSteps = 1_000_000
)

// Validate reports every unusable value of the form.
func (s TrainSettings) Validate() error {
	var errs []error
	if !slices.Contains(TrainPresets, s.Preset) {
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

// Options are the run's engine/train options.
func (s TrainSettings) Options() train.Options {
	return train.Options{Steps: s.Steps, Batch: s.Batch, BaseLR: s.BaseLR, Warmup: s.Warmup, Seed: s.Seed}
}

// settingsOf is the form of a saved run: its options, and PresetCurrent
// (once restored, its model is the page's: training on fine-tunes it).
func settingsOf(info train.Info) TrainSettings {
	o := info.Options
	return TrainSettings{Preset: PresetCurrent, Batch: o.Batch, Steps: o.Steps, BaseLR: o.BaseLR, Warmup: o.Warmup, Seed: o.Seed}
}

// describeRunModel names the model of a saved run for its note.
func describeRunModel(info train.Info) string {
	if info.Family == train.FamilyTutorial {
		return fmt.Sprintf("the tutorial's MAE, %d px", info.Config.ImageSize)
	}
	return describeConfig(info.Config)
}

// runFile is the browser-storage file of the training run.
const runFile = "webmae-run.safetensors"

// browserStore keeps the page's checkpoint in the browser's storage
// (OPFS), as runFile: the same bytes as a checkpoint.safetensors of the
// command line.
type browserStore struct{}

func (browserStore) Load() ([]byte, bool, error) { return storeRead(runFile) }
func (browserStore) Save(data []byte) error      { return storeWrite(runFile, data) }
func (browserStore) Remove() error               { return storeDelete(runFile) }
func (browserStore) String() string              { return "this browser's storage" }

// pageImages is the name of the page's training data in checkpoints.
const pageImages = "images in the page"

// newRun starts a run that trains m, of either family (fine-tuning it
// from its current parameters with a fresh optimizer), on images,
// replacing any run saved in store.
func newRun(m train.Net, norm recon.Norm, s TrainSettings, images []recon.Pixels, names []string, store train.Store) (*train.Trainer, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("training settings: %w", err)
	}
	src := train.MemorySource{Name: pageImages, Images: images, Names: names, Norm: norm}
	ds, err := src.Load(m.Geometry().NumChannels)
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	if err := store.Remove(); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	tr, err := train.NewFrom(m, ds, store, s.Options())
	if err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	return tr, nil
}

// restoreRun rebuilds the run saved in store on backend k, with the
// images the checkpoint holds.
func restoreRun(k backend.Kernels, store train.Store) (*train.Trainer, TrainSettings, error) {
	info, found, err := train.ReadInfo(store)
	if err == nil && !found {
		err = errors.New("no checkpoint of the run is saved")
	}
	if err != nil {
		return nil, TrainSettings{}, fmt.Errorf("saved run: %w", err)
	}
	tr, err := train.Resume(k, nil, store, info.Options)
	if err != nil {
		return nil, TrainSettings{}, fmt.Errorf("saved run: %w", err)
	}
	return tr, settingsOf(info), nil
}
