package ui

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"webmae/engine/backend"
	"webmae/engine/gpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/tutorial"
)

// Limits on images given to the page.
const (
	MaxImageBytes = 50 << 20 // larger files are refused
	MaxImageSide  = 1024     // larger images are downscaled while decoding
)

// imageResult is one decoded image given to the page (or why it failed).
type imageResult struct {
	Name  string
	Pix   recon.Pixels
	Note  string // what decoding did ("downscaled from ...")
	Thumb string // a URL showing the image, for the gallery
	Err   error
}

// namedBytes is a file read whole.
type namedBytes struct {
	Name string
	Data []byte
}

// picture is an image the page can reconstruct and train on.
type picture struct {
	Key   string // "sample-<name>" or "upload-<n>", also its test id
	Name  string
	Pix   recon.Pixels
	Note  string
	Thumb string
}

// loadedModel is the model the page shows, on the page's backend.
type loadedModel struct {
	Config model.Config
	Model  *mae.Model
	Rec    *recon.Reconstructor
	Norm   recon.Norm
	Source string         // where it came from, for the status line
	Origin string         // originBundled, originFile, originID, originInitialised; "" when trained in the page
	Tut    *tutorialModel // the tutorial's family (ui/tutorial.go); nil for the official one
	Fresh  bool           // freshly initialised, never trained
	// rebuild makes the same model on another backend (after the WebGPU
	// device is lost); nil for a model trained in the page, which comes
	// back from its last checkpoint instead.
	rebuild func(k backend.Kernels) (*loadedModel, error)
}

func newLoadedModel(k backend.Kernels, cfg model.Config, params []float32, norm recon.Norm, source string) (*loadedModel, error) {
	m, err := mae.New(k, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(params); err != nil {
		return nil, err
	}
	lm, err := wrapModel(m, norm, source)
	if err != nil {
		return nil, err
	}
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) {
		m, err := newLoadedModel(k, cfg, params, norm, source)
		if m != nil {
			m.Origin = lm.Origin // as set by the caller
		}
		return m, err
	}
	return lm, nil
}

func wrapModel(m *mae.Model, norm recon.Norm, source string) (*loadedModel, error) {
	rec, err := recon.NewReconstructor(m, norm)
	if err != nil {
		return nil, err
	}
	return &loadedModel{Config: m.Config, Model: m, Rec: rec, Norm: norm, Source: source}, nil
}

// FreshSeed is the seed of the freshly initialised model shown when no
// trained default model is bundled.
const FreshSeed = 0

func freshModel(k backend.Kernels, preset string, seed uint64) (*loadedModel, error) {
	cfg, err := model.Preset(preset)
	if err != nil {
		return nil, err
	}
	m, err := mae.NewInit(k, cfg, seed)
	if err != nil {
		return nil, err
	}
	norm, err := recon.DefaultNorm(cfg.NumChannels)
	if err != nil {
		return nil, err
	}
	lm, err := wrapModel(m, norm, fmt.Sprintf("freshly initialised (seed %d)", seed))
	if err != nil {
		return nil, err
	}
	lm.Fresh, lm.Origin = true, originInitialised
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) { return freshModel(k, preset, seed) }
	return lm, nil
}

// describeConfig names a configuration by its preset when it is one.
func describeConfig(c model.Config) string {
	for _, name := range model.PresetNames {
		if p, _ := model.Preset(name); p == c {
			return name
		}
	}
	return fmt.Sprintf("%d px, patch %d, %dx%d", c.ImageSize, c.PatchSize, c.HiddenSize, c.NumHiddenLayers)
}

// modelFromFiles loads a model from the files a person chose: one weights
// file (.safetensors, .pth, .pt or .bin), its config.json (optional when
// the shapes are those of a published size or fit the current
// configuration) and optionally preprocessor_config.json for the
// normalisation. The model must fit the memory (see memoryCheck).
func modelFromFiles(k backend.Kernels, files []namedBytes, current model.Config) (*loadedModel, error) {
	var weights, cfgFile, pre *namedBytes
	for i := range files {
		f := &files[i]
		name := strings.ToLower(path.Base(f.Name))
		switch {
		case hasWeightsExt(name):
			if weights != nil {
				return nil, fmt.Errorf("choose one weights file, not %s and %s", weights.Name, f.Name)
			}
			weights = f
		case strings.Contains(name, "preprocessor") && strings.HasSuffix(name, ".json"):
			pre = f
		case strings.HasSuffix(name, ".json"):
			if cfgFile != nil {
				return nil, fmt.Errorf("choose one config.json, not %s and %s", cfgFile.Name, f.Name)
			}
			cfgFile = f
		default:
			return nil, fmt.Errorf("%s is neither a weights file (.safetensors, .pth, .pt, .bin) nor a .json config", f.Name)
		}
	}
	if weights == nil {
		return nil, errors.New("choose a weights file (.safetensors, .pth, .pt or .bin; with its config.json)")
	}
	if cfgFile != nil && tutorial.IsConfig(cfgFile.Data) {
		lm, err := tutorialModelFromFiles(k, weights, cfgFile, pre)
		if lm != nil {
			lm.Origin = originFile
		}
		return lm, err
	}
	var cfgJSON []byte
	cfgName := "the current configuration"
	if cfgFile != nil {
		cfgJSON, cfgName = cfgFile.Data, cfgFile.Name
	} else if tensors, err := model.ReadTensors(weights.Data); err == nil {
		if _, err := model.InferConfig(tensors); err == nil {
			cfgName = "the config of its published size" // LoadModelBytes infers it again from nil
		}
	}
	if cfgJSON == nil && cfgName == "the current configuration" {
		b, err := current.MarshalHF()
		if err != nil {
			return nil, err
		}
		cfgJSON = b
	}
	cfg, params, format, err := model.LoadModelBytes(weights.Data, cfgJSON)
	if err == nil {
		err = memoryCheck(cfg, int64(len(weights.Data)), limitsOf(k))
	}
	if err != nil {
		if cfgFile == nil {
			return nil, fmt.Errorf("%s with %s: %w (choose its config.json too)", weights.Name, cfgName, err)
		}
		return nil, fmt.Errorf("%s with %s: %w", weights.Name, cfgName, err)
	}
	norm, err := recon.DefaultNorm(cfg.NumChannels)
	if pre != nil {
		norm, err = recon.ParsePreprocessor(pre.Data, cfg.NumChannels)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weights.Name, err)
	}
	lm, err := newLoadedModel(k, cfg, params, norm, fmt.Sprintf("%s (%s names)", weights.Name, format))
	if err != nil {
		return nil, err
	}
	lm.Origin = originFile
	return lm, nil
}

// modelFiles are the files of the model download: Hugging Face
// model.safetensors (F32) and config.json.
func modelFiles(lm *loadedModel) (weights, config []byte, err error) {
	if lm.Tut != nil {
		return tutorialFiles(lm.Tut)
	}
	params, err := lm.Model.ReadParams()
	if err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	var buf bytes.Buffer
	if err := model.WriteModel(&buf, lm.Config, lm.Model.Layout, params, false); err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	cfg, err := lm.Config.MarshalHF()
	if err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	return buf.Bytes(), cfg, nil
}

// reconJob is one reconstruction to run.
type reconJob struct {
	lm      *loadedModel
	pix     recon.Pixels
	mask    maskState
	preview bool // the training preview rather than the main view
	// done receives the result on the worker goroutine.
	done func(reconOutput, error)
}

// reconOutput is a finished reconstruction, ready to draw.
type reconOutput struct {
	job    reconJob
	res    recon.Result
	panels [4][]byte // RGBA of recon.Result.Panels
	note   string    // what was done to fit the image to the model
}

// prepare fits an image to the model's input: channels, centre crop and
// resize, normalisation.
func prepare(lm *loadedModel, pix recon.Pixels) ([]float32, string, error) {
	p, err := pix.WithChannels(lm.Config.NumChannels)
	if err != nil {
		return nil, "", err
	}
	img, note, err := p.Fit(lm.Config.ImageSize)
	if err != nil {
		return nil, "", err
	}
	return lm.Norm.Normalize(img), note, nil
}

// run reconstructs; the caller holds the backend lock.
func (j reconJob) run() (reconOutput, error) {
	mark("recon-start")
	img, note, err := prepare(j.lm, j.pix)
	if err != nil {
		return reconOutput{}, fmt.Errorf("prepare image: %w", err)
	}
	mk, err := j.lm.masking(j.mask)
	if err != nil {
		return reconOutput{}, err
	}
	res, err := j.lm.reconstruct(img, mk)
	if err != nil {
		return reconOutput{}, err
	}
	mark("recon-computed")
	return j.output(res, note)
}

// output draws a finished reconstruction's panels.
func (j reconJob) output(res recon.Result, note string) (reconOutput, error) {
	out := reconOutput{job: j, res: res, note: note}
	for i, panel := range res.Panels() {
		var err error
		if out.panels[i], err = recon.ToRGBA(panel, res.H, res.W, j.lm.Norm); err != nil {
			return reconOutput{}, err
		}
	}
	return out, nil
}

// reconQueue runs reconstructions one at a time, newest request first:
// a request made while one runs replaces any older waiting one of the
// same kind (main view or training preview).
type reconQueue struct {
	mu      sync.Mutex
	waiting map[bool]*reconJob
	busy    bool
}

// put queues a job and reports whether a worker must be started.
func (q *reconQueue) put(j reconJob) (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting == nil {
		q.waiting = map[bool]*reconJob{}
	}
	q.waiting[j.preview] = &j
	if q.busy {
		return false
	}
	q.busy = true
	return true
}

// take returns the next job, main view first; ok is false (and the worker
// must end) when none waits.
func (q *reconQueue) take() (reconJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, kind := range []bool{false, true} {
		if j := q.waiting[kind]; j != nil {
			delete(q.waiting, kind)
			return *j, true
		}
	}
	q.busy = false
	return reconJob{}, false
}

// describeAdapter is the status line of a WebGPU backend's adapter.
func describeAdapter(info gpu.Info) string {
	s := "adapter " + info.Adapter
	if info.Vendor != "" && info.Vendor != info.Adapter {
		s += " · " + info.Vendor
	}
	if info.AdapterType != "" {
		s += " (" + info.AdapterType + ")"
	}
	return s
}

// isDeviceLost reports whether err means the WebGPU device is gone.
func isDeviceLost(err error) bool { return errors.Is(err, gpu.ErrDeviceLost) }
