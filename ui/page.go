package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// The bundled default model lives in public/models (see its README), served
// at /models/. The server tells the page which of its files exist through
// the environment variable EnvModelFiles (a comma-separated list of names),
// so that the page never asks for a missing one.
const (
	EnvModelFiles = "WEBMAE_MODEL_FILES"
	ModelsURL     = "/models/"
	defaultPreset = model.PresetTiny
)

// runFile is the browser-storage file of the training run.
const runFile = "webmae-run.safetensors"

// Training cadence.
const (
	previewEvery = 5  // steps between preview reconstructions
	saveEvery    = 10 // steps between checkpoints in browser storage
)

// Training states.
const (
	trainIdle    = "idle"
	trainRunning = "running"
	trainPausing = "pausing"
	trainPaused  = "paused"
	trainDone    = "done"
)

// Control requests to a running training loop.
const (
	ctlRun int32 = iota
	ctlPause
	ctlStop
)

// Page is the demo: images, masking, the reconstruction view, training and
// the model.
type Page struct {
	app.Compo

	ctx   app.Context // the mount context, for work finished asynchronously
	hooks *browserHooks

	// Engine side, shared with the goroutines that compute. The backend is
	// used by one computation at a time (mu).
	mu      sync.Mutex
	k       backend.Kernels
	lm      *loadedModel
	run     *trainRun
	queue   reconQueue
	ctl     atomic.Int32
	uploads int
	lost    bool // the WebGPU device was lost; the page runs on the CPU

	// What the page shows.
	backendText string
	adapterText string
	loading     string  // what is loading ("" when nothing)
	progress    float64 // of loading, 0..1; < 0 when unknown
	errMsg      string
	dragging    bool
	updated     bool // a new version of the app was fetched in the background

	pictures []picture // uploads first (newest first), then samples as loaded
	current  string    // key of the reconstructed picture
	fitNote  string

	mask                 maskState
	masked, patches      int
	drawnMasked, drawSeq int
	result               *recon.Result
	busy                 bool

	form       TrainSettings
	trainState string
	trainStep  int
	trainTotal int
	losses     []float32
	rate       float64 // steps per second
	saved      *RunInfo
	savedNote  string
	previewSeq int

	hub hubState // models by id or URL, kept models (hub.go)
}

// OnInit sets the defaults (on the server too, which prerenders the page).
func (p *Page) OnInit() {
	p.mask = maskState{Ratio: DefaultRatio, Seed: 1}
	p.form = DefaultTrainSettings()
	p.trainState = trainIdle
	p.backendText = "starting…"
	p.loading = "Starting the engine"
	p.progress = -1
}

// OnMount starts the page's work in the browser.
func (p *Page) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	p.ctx = ctx
	p.hooks = installHooks(p.imagesArrived, func(on bool) {
		ctx.Dispatch(func(app.Context) { p.dragging = on })
	})
	ctx.Async(p.startup)
}

// OnAppUpdate offers the new version the service worker fetched.
func (p *Page) OnAppUpdate(ctx app.Context) { p.updated = ctx.AppUpdateAvailable() }

// OnDismount stops the listeners and any training loop.
func (p *Page) OnDismount() {
	if p.hooks != nil {
		p.hooks.release()
	}
	p.ctl.Store(ctlPause)
}

func (p *Page) fail(err error) {
	p.ctx.Dispatch(func(app.Context) { p.errMsg = err.Error() })
}

// startup chooses the backend, loads the default model, the first sample
// and any saved training run. It runs in its own goroutine.
func (p *Page) startup() {
	k, backendText, adapterText := chooseBackend()
	p.k = k
	p.ctx.Dispatch(func(app.Context) {
		p.backendText, p.adapterText = backendText, adapterText
		p.loading, p.progress = "Loading the default model", 0
	})

	lm, err := p.loadStartModel()
	if err != nil {
		p.fail(fmt.Errorf("the bundled model could not be loaded, showing a freshly initialised %s instead: %w", defaultPreset, err))
	}
	if lm == nil {
		if lm, err = freshModel(k, defaultPreset, FreshSeed); err != nil {
			p.fail(fmt.Errorf("create the %s model: %w", defaultPreset, err))
			p.ctx.Dispatch(func(app.Context) { p.loading = "" })
			return
		}
	}
	p.ctx.Dispatch(func(ctx app.Context) {
		p.setModel(ctx, lm)
		p.loading, p.progress = "Loading the sample images", -1
	})

	p.loadSample(Samples[0], true)
	p.ctx.Dispatch(func(app.Context) { p.loading = "" })

	data, found, err := storeRead(runFile)
	if err != nil {
		p.ctx.Dispatch(func(app.Context) {
			p.savedNote = fmt.Sprintf("Training runs cannot be saved in this browser (%v): a reload loses them.", err)
		})
		return
	}
	if found {
		info, tensors, _, err := readCheckpoint(data)
		p.ctx.Dispatch(func(app.Context) {
			if err != nil {
				p.savedNote = fmt.Sprintf("A saved training run could not be read (%v); starting a new run replaces it.", err)
				return
			}
			p.saved = &info
			p.form = info.Settings
			p.losses = tensors["losses"].F32
			p.trainStep, p.trainTotal = info.Step, info.Settings.Steps
		})
	}
}

// loadDefaultModel fetches the bundled model; nil (and no error) when none
// is bundled.
func (p *Page) loadDefaultModel() (*loadedModel, error) {
	bundled := map[string]bool{}
	for _, name := range strings.Split(app.Getenv(EnvModelFiles), ",") {
		bundled[name] = true
	}
	if !bundled[model.ModelFileName] || !bundled[model.ConfigFileName] {
		return nil, nil
	}
	var files []namedBytes
	for _, name := range []string{model.ConfigFileName, recon.PreprocessorFileName, model.ModelFileName} {
		if !bundled[name] {
			continue
		}
		var progress func(done, total int)
		if name == model.ModelFileName {
			progress = func(done, total int) {
				if total > 0 {
					p.ctx.Dispatch(func(app.Context) { p.progress = float64(done) / float64(total) })
				}
			}
		}
		data, found, err := fetchBytes(ModelsURL+name, progress)
		if err == nil && !found {
			err = fmt.Errorf("%s%s is missing", ModelsURL, name)
		}
		if err != nil {
			return nil, err
		}
		files = append(files, namedBytes{Name: name, Data: data})
	}
	lm, err := modelFromFiles(p.k, files, model.Config{})
	if err != nil {
		return nil, err
	}
	lm.Source, lm.Origin = "the bundled default model", originBundled
	rebuild := lm.rebuild
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) {
		m, err := rebuild(k)
		if m != nil {
			m.Source = "the bundled default model"
		}
		return m, err
	}
	return lm, nil
}

// setModel makes lm the page's model and reconstructs with it.
func (p *Page) setModel(ctx app.Context, lm *loadedModel) {
	p.lm = lm
	p.mask = p.mask.fit(lm.Config)
	p.result = nil
	p.requestRecon(ctx)
}

// --- images

func (p *Page) picture(key string) *picture {
	for i := range p.pictures {
		if p.pictures[i].Key == key {
			return &p.pictures[i]
		}
	}
	return nil
}

// addPicture adds (or replaces) a picture: uploads go first, newest first.
func (p *Page) addPicture(pic picture, upload bool) {
	if old := p.picture(pic.Key); old != nil {
		*old = pic
		return
	}
	if upload {
		p.pictures = append([]picture{pic}, p.pictures...)
		return
	}
	p.pictures = append(p.pictures, pic)
}

func (p *Page) selectPicture(ctx app.Context, key string) {
	p.current = key
	p.requestRecon(ctx)
}

// imagesArrived takes decoded uploads (from the file picker, a drop or a
// paste): good ones join the gallery and the first becomes current; the
// others are reported and change nothing.
func (p *Page) imagesArrived(results []imageResult) {
	p.ctx.Dispatch(func(ctx app.Context) {
		var errs []error
		first := ""
		for _, r := range results {
			if r.Err != nil {
				errs = append(errs, r.Err)
				continue
			}
			p.uploads++
			key := "upload-" + strconv.Itoa(p.uploads)
			p.addPicture(picture{Key: key, Name: r.Name, Pix: r.Pix, Note: r.Note, Thumb: r.Thumb}, true)
			if first == "" {
				first = key
			}
		}
		if len(errs) > 0 {
			p.errMsg = errors.Join(errs...).Error()
		} else {
			p.errMsg = ""
		}
		if first != "" {
			p.selectPicture(ctx, first)
		}
	})
}

func (p *Page) onImageInput(ctx app.Context, e app.Event) {
	files := takeInputFiles("image-input")
	if len(files) == 0 {
		return
	}
	ctx.Async(func() { p.imagesArrived(files.decodeImages()) })
}

// onThumb shows the gallery item clicked (data-key), fetching a bundled
// sample on first use.
func (p *Page) onThumb(ctx app.Context, e app.Event) {
	key := ctx.JSSrc().Get("dataset").Get("key").String()
	if p.picture(key) != nil {
		p.selectPicture(ctx, key)
		return
	}
	for _, s := range Samples {
		if key == "sample-"+s.Name {
			ctx.Async(func() { p.loadSample(s, true) })
		}
	}
}

// loadSample fetches and decodes a bundled sample, adds it to the gallery
// and, with show, makes it current.
func (p *Page) loadSample(s Sample, show bool) error {
	pix, note, err := fetchImage(s.URL(), s.File)
	if err != nil {
		err = fmt.Errorf("sample %s: %w", s.Name, err)
	}
	done := make(chan struct{})
	p.ctx.Dispatch(func(ctx app.Context) {
		defer close(done)
		if err != nil {
			p.errMsg = err.Error()
			return
		}
		key := "sample-" + s.Name
		p.addPicture(picture{Key: key, Name: s.Title, Pix: pix, Note: note, Thumb: s.URL()}, false)
		if show {
			p.selectPicture(ctx, key)
		}
	})
	<-done
	return err
}

// --- masking and reconstruction

func (p *Page) onRatio(ctx app.Context, e app.Event) {
	v, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64)
	if err != nil {
		return
	}
	p.mask = p.mask.withRatio(v)
	p.requestRecon(ctx)
}

func (p *Page) onReroll(ctx app.Context, e app.Event) {
	p.mask.Seed++
	p.mask.Hand = nil
	p.requestRecon(ctx)
}

func (p *Page) onBlock(ctx app.Context, e app.Event) {
	p.mask.Block = ctx.JSSrc().Get("checked").Bool()
	p.mask.Hand = nil
	p.requestRecon(ctx)
}

// onMaskedClick toggles the patch under the pointer.
func (p *Page) onMaskedClick(ctx app.Context, e app.Event) {
	if p.lm == nil {
		return
	}
	el := ctx.JSSrc()
	w, h := el.Get("clientWidth").Float(), el.Get("clientHeight").Float()
	if w <= 0 || h <= 0 {
		return
	}
	g := p.lm.Config.GridSize()
	col := min(int(e.Get("offsetX").Float()/w*float64(g)), g-1)
	row := min(int(e.Get("offsetY").Float()/h*float64(g)), g-1)
	ms, err := p.mask.toggle(p.lm.Config, row*g+max(col, 0))
	if err != nil {
		p.errMsg = err.Error()
		return
	}
	p.mask = ms
	p.requestRecon(ctx)
}

// requestRecon reconstructs the current picture with the current mask
// (coalescing requests made while one runs).
func (p *Page) requestRecon(ctx app.Context) {
	pic := p.picture(p.current)
	if p.lm == nil || pic == nil {
		return
	}
	mk, err := p.mask.masking(p.lm.Config)
	if err != nil {
		p.errMsg = err.Error()
		return
	}
	p.masked, p.patches = mk.L-mk.K, mk.L
	p.busy = true
	p.queueRecon(reconJob{lm: p.lm, pix: pic.Pix, mask: p.mask})
}

func (p *Page) queueRecon(j reconJob) {
	if p.queue.put(j) {
		p.ctx.Async(p.reconWorker)
	}
}

// reconWorker runs queued reconstructions and shows them.
func (p *Page) reconWorker() {
	for {
		j, ok := p.queue.take()
		if !ok {
			return
		}
		p.mu.Lock()
		out, err := j.run()
		p.mu.Unlock()
		if isDeviceLost(err) {
			p.onDeviceLost(err)
			continue
		}
		p.ctx.Dispatch(func(app.Context) {
			if err != nil {
				p.errMsg = fmt.Sprintf("reconstruction failed: %v", err)
				p.busy = false
				return
			}
			p.show(out)
		})
		time.Sleep(time.Millisecond) // let the page paint between jobs
	}
}

// Canvas ids of the four panels, in recon.Result.Panels order.
var panelIDs = [4]string{"canvas-original", "canvas-masked", "canvas-recon", "canvas-paste"}

// Canvas ids of the training preview.
var previewIDs = [4]string{"preview-original", "preview-masked", "preview-recon", "preview-paste"}

func (p *Page) show(out reconOutput) {
	ids := panelIDs
	if out.job.preview {
		ids = previewIDs
	}
	for i, id := range ids {
		if err := drawRGBA(id, out.res.W, out.res.H, out.panels[i]); err != nil {
			p.errMsg = err.Error()
			return
		}
	}
	if out.job.preview {
		p.previewSeq++
		return
	}
	res := out.res
	p.result = &res
	p.fitNote = out.note
	p.drawnMasked = res.NumMasked()
	p.drawSeq++
	p.busy = false
}

// --- model

func (p *Page) onModelInput(ctx app.Context, e app.Event) {
	files := takeInputFiles("model-input")
	if len(files) == 0 {
		return
	}
	if p.trainState != trainIdle && p.trainState != trainDone {
		p.errMsg = "stop the training run before loading another model"
		return
	}
	p.loading, p.progress = "Loading the model", -1
	current := model.Config{}
	if p.lm != nil {
		current = p.lm.Config
	}
	ctx.Async(func() {
		var data []namedBytes
		lm, err := func() (*loadedModel, error) {
			var err error
			if data, err = files.read(); err != nil {
				return nil, err
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			return modelFromFiles(p.k, data, current)
		}()
		if err == nil {
			defer p.keepUpload(data, lm)
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			p.loading = ""
			if err != nil {
				p.errMsg = fmt.Sprintf("model not loaded, the previous one stays: %v", err)
				return
			}
			p.errMsg = ""
			p.setModel(ctx, lm)
		})
	})
}

func (p *Page) onDownload(ctx app.Context, e app.Event) {
	lm := p.lm
	if lm == nil {
		return
	}
	ctx.Async(func() {
		p.mu.Lock()
		weights, cfg, err := modelFiles(lm)
		p.mu.Unlock()
		if err == nil {
			err = download("model.safetensors", "application/octet-stream", weights)
		}
		if err == nil {
			time.Sleep(200 * time.Millisecond) // two downloads in a row: let the first start
			err = download("config.json", "application/json", cfg)
		}
		if err != nil {
			p.fail(err)
		}
	})
}

// --- training

func (p *Page) onForm(field string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		v := ctx.JSSrc().Get("value").String()
		f := p.form
		var err error
		switch field {
		case "preset":
			f.Preset = v
		case "batch":
			f.Batch, err = strconv.Atoi(v)
		case "steps":
			f.Steps, err = strconv.Atoi(v)
		case "lr":
			f.BaseLR, err = strconv.ParseFloat(v, 64)
		case "warmup":
			f.Warmup, err = strconv.Atoi(v)
		}
		if err != nil {
			p.errMsg = fmt.Sprintf("training %s: %q is not a number", field, v)
			return
		}
		p.form = f
	}
}

// trainingImages is the training set: the current picture first (the
// preview), then the other uploads, then every sample.
func (p *Page) trainingImages() (keys []string, missing []Sample) {
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if p.picture(p.current) != nil {
		add(p.current)
	}
	for _, pic := range p.pictures {
		if strings.HasPrefix(pic.Key, "upload-") {
			add(pic.Key)
		}
	}
	for _, s := range Samples {
		k := "sample-" + s.Name
		if p.picture(k) == nil {
			missing = append(missing, s)
		}
		add(k)
	}
	return keys, missing
}

func (p *Page) onTrainStart(ctx app.Context, e app.Event) {
	switch p.trainState {
	case trainRunning, trainPausing:
		return
	case trainPaused:
		p.startLoop(ctx)
		return
	}
	if p.saved != nil {
		p.resumeSaved(ctx)
		return
	}
	if err := p.form.Validate(); err != nil {
		p.errMsg = err.Error()
		return
	}
	if p.lm == nil || p.k == nil {
		return
	}
	settings := p.form
	keys, missing := p.trainingImages()
	cur := p.lm
	p.trainState, p.loading, p.progress = trainRunning, "Preparing the training images", -1
	p.errMsg = ""
	ctx.Async(func() {
		for _, s := range missing {
			if err := p.loadSample(s, false); err != nil {
				p.trainFailed(fmt.Errorf("training image: %w", err))
				return
			}
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			var images []recon.Pixels
			var names []string
			for _, k := range keys {
				if pic := p.picture(k); pic != nil {
					images = append(images, pic.Pix)
					names = append(names, pic.Name)
				}
			}
			ctx.Async(func() { p.beginRun(settings, cur, images, names) })
		})
	})
}

// beginRun builds the run's model: the current one when it has the
// preset's configuration (fine-tuning), else a fresh one.
func (p *Page) beginRun(s TrainSettings, cur *loadedModel, images []recon.Pixels, names []string) {
	p.mu.Lock()
	run, lm, err := func() (*trainRun, *loadedModel, error) {
		cfg, err := model.Preset(s.Preset)
		if err != nil {
			return nil, nil, err
		}
		lm := cur
		if cur.Config != cfg {
			if lm, err = freshModel(p.k, s.Preset, s.Seed); err != nil {
				return nil, nil, err
			}
		}
		run, err := newTrainRun(lm.Model, lm.Norm, s, images, names)
		if err != nil {
			return nil, nil, err
		}
		lm, err = wrapModel(lm.Model, lm.Norm, "")
		if err != nil {
			return nil, nil, err
		}
		return run, lm, nil
	}()
	p.mu.Unlock()
	if err != nil {
		p.trainFailed(err)
		return
	}
	p.ctx.Dispatch(func(ctx app.Context) {
		p.loading = ""
		p.run = run
		lm.Source = fmt.Sprintf("trained in this page from %s", sourceName(cur, s.Preset))
		p.setModel(ctx, lm)
		p.losses, p.trainStep, p.trainTotal = nil, run.Step(), s.Steps
		p.startLoop(ctx)
	})
}

func sourceName(cur *loadedModel, preset string) string {
	if cfg, _ := model.Preset(preset); cur.Config == cfg && !cur.Fresh {
		return cur.Source
	}
	return "a fresh initialisation"
}

// resumeSaved restores the saved run and continues it.
func (p *Page) resumeSaved(ctx app.Context) {
	p.trainState, p.loading, p.progress = trainRunning, "Restoring the saved run", -1
	ctx.Async(func() {
		data, found, err := storeRead(runFile)
		if err == nil && !found {
			err = errors.New("the saved run is gone from browser storage")
		}
		var run *trainRun
		var lm *loadedModel
		if err == nil {
			p.mu.Lock()
			run, err = restoreRun(p.k, data)
			if err == nil {
				lm, err = wrapModel(run.Model, run.Norm, "")
			}
			p.mu.Unlock()
		}
		if err != nil {
			p.trainFailed(fmt.Errorf("resume: %w", err))
			return
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			p.loading, p.saved = "", nil
			p.run = run
			lm.Source = "restored from the saved training run"
			p.setModel(ctx, lm)
			p.form = run.Settings
			p.losses = append([]float32(nil), run.Losses...)
			p.trainStep, p.trainTotal = run.Step(), run.Settings.Steps
			if run.Done() {
				p.trainState = trainDone
				p.requestPreview()
				return
			}
			p.startLoop(ctx)
		})
	})
}

func (p *Page) trainFailed(err error) {
	p.ctx.Dispatch(func(app.Context) {
		p.loading = ""
		p.errMsg = err.Error()
		if p.run == nil {
			p.trainState = trainIdle
		} else {
			p.trainState = trainPaused
		}
	})
}

func (p *Page) startLoop(ctx app.Context) {
	run := p.run
	if run == nil {
		return
	}
	p.trainState = trainRunning
	p.ctl.Store(ctlRun)
	ctx.Async(func() { p.trainLoop(run) })
}

func (p *Page) onTrainPause(ctx app.Context, e app.Event) {
	if p.trainState == trainRunning {
		p.trainState = trainPausing
		p.ctl.Store(ctlPause)
	}
}

func (p *Page) onTrainStop(ctx app.Context, e app.Event) {
	switch p.trainState {
	case trainRunning, trainPausing:
		p.trainState = trainPausing
		p.ctl.Store(ctlStop)
	case trainPaused, trainDone:
		p.endRun(ctx)
	}
}

// endRun forgets the run (its model stays in the page) and its saved state.
func (p *Page) endRun(ctx app.Context) {
	p.run, p.trainState = nil, trainIdle
	ctx.Async(func() {
		if err := storeDelete(runFile); err != nil {
			p.fail(err)
		}
	})
}

func (p *Page) onDiscardSaved(ctx app.Context, e app.Event) {
	p.saved, p.savedNote, p.losses = nil, "", nil
	p.trainStep, p.trainTotal = 0, 0
	ctx.Async(func() {
		if err := storeDelete(runFile); err != nil {
			p.fail(err)
		}
	})
}

// trainLoop takes steps until the run ends or is paused or stopped,
// yielding to the page between steps.
func (p *Page) trainLoop(run *trainRun) {
	start, startStep := time.Now(), run.Step()
	for !run.Done() && p.ctl.Load() == ctlRun {
		p.mu.Lock()
		loss, err := run.TrainStep()
		p.mu.Unlock()
		if isDeviceLost(err) {
			p.onDeviceLost(err)
			return
		}
		if err != nil {
			p.save(run)
			p.trainFailed(err)
			return
		}
		step := run.Step()
		rate := float64(step-startStep) / time.Since(start).Seconds()
		p.ctx.Dispatch(func(app.Context) {
			p.trainStep, p.rate = step, rate
			p.losses = append(p.losses, loss)
			if step%previewEvery == 0 || run.Done() {
				p.requestPreview()
			}
		})
		if step%saveEvery == 0 && !run.Done() {
			p.save(run)
		}
		time.Sleep(time.Millisecond) // let the page handle events and paint
	}
	stop := p.ctl.Load() == ctlStop
	if !stop {
		p.save(run)
	}
	p.ctx.Dispatch(func(ctx app.Context) {
		switch {
		case stop:
			p.endRun(ctx)
		case run.Done():
			p.trainState = trainDone
		default:
			p.trainState = trainPaused
		}
		p.requestPreview()
	})
}

// save writes the run to browser storage.
func (p *Page) save(run *trainRun) {
	p.mu.Lock()
	data, err := run.Checkpoint()
	p.mu.Unlock()
	if err == nil {
		err = storeWrite(runFile, data)
	}
	if isDeviceLost(err) {
		p.onDeviceLost(err) // the previous checkpoint stays
		return
	}
	if err != nil {
		p.fail(fmt.Errorf("saving the training run failed (training goes on): %w", err))
	}
}

// onDeviceLost moves the page to the CPU backend after the WebGPU device
// is lost: the model is rebuilt there, a training run from its last
// checkpoint in browser storage (paused, ready to resume). It may be
// called from any goroutine except the UI's, more than once.
func (p *Page) onDeviceLost(cause error) {
	p.ctx.Dispatch(func(ctx app.Context) {
		if p.lost {
			return
		}
		p.lost = true
		p.ctl.Store(ctlPause)
		k := cpuBackend()
		p.backendText = cpuBackendText
		p.adapterText = "the WebGPU device was lost; continuing on the CPU"
		p.errMsg = fmt.Sprintf("The WebGPU device was lost (%v). The page continues on the CPU backend.", cause)
		run, lm := p.run, p.lm
		p.loading, p.progress = "Moving to the CPU backend", -1
		ctx.Async(func() {
			p.mu.Lock()
			p.k = k
			var nrun *trainRun
			var nlm *loadedModel
			var err error
			switch {
			case run != nil:
				var data []byte
				var found bool
				if data, found, err = storeRead(runFile); err == nil && !found {
					err = errors.New("no checkpoint of the run was saved yet")
				}
				if err == nil {
					nrun, err = restoreRun(k, data)
				}
				if err == nil {
					nlm, err = wrapModel(nrun.Model, nrun.Norm, "restored from the last checkpoint after the WebGPU device was lost")
				}
			case lm != nil && lm.rebuild != nil:
				nlm, err = lm.rebuild(k)
			default:
				nlm, err = freshModel(k, defaultPreset, FreshSeed)
			}
			p.mu.Unlock()
			p.ctx.Dispatch(func(ctx app.Context) {
				p.loading = ""
				if err != nil {
					p.errMsg += fmt.Sprintf(" The model could not be restored (%v); a fresh one is shown.", err)
					if nlm, err = freshModel(k, defaultPreset, FreshSeed); err != nil {
						return
					}
					nrun = nil
				}
				p.run = nrun
				if nrun != nil {
					p.trainState = trainPaused
					if nrun.Done() {
						p.trainState = trainDone
					}
					p.losses = append([]float32(nil), nrun.Losses...)
					p.trainStep, p.trainTotal = nrun.Step(), nrun.Settings.Steps
				} else if p.trainState != trainDone {
					p.trainState = trainIdle
				}
				p.setModel(ctx, nlm)
			})
		})
	})
}

// requestPreview reconstructs the run's preview image (its first training
// image, fixed mask) and the main view with the trained model.
func (p *Page) requestPreview() {
	if p.run == nil || p.lm == nil {
		return
	}
	mask := maskState{Ratio: p.lm.Config.MaskRatio, Seed: 0}
	p.queueRecon(reconJob{lm: p.lm, pix: p.run.Images[0], mask: mask, preview: true})
	p.requestRecon(p.ctx)
}

// --- formatting

func fmtRate(v float64) string {
	switch {
	case v <= 0 || math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v < 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "–"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

func fmtParams(n int) string {
	if n >= 1e6 {
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.0f k", float64(n)/1e3)
}
