package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/recon"
	"webmae/engine/train"
)

// Training cadence.
const (
	previewEvery = 5  // steps between preview reconstructions
	saveEvery    = 10 // steps between checkpoints in browser storage
)

// Canvas ids of the training preview.
var previewIDs = [4]string{"preview-original", "preview-masked", "preview-recon", "preview-paste"}

// savedRun is a run saved in storage, shown before it is resumed.
type savedRun struct {
	Settings TrainSettings
	Model    string // what it trains (describeRunModel)
	Step     int
	Loss     float32 // the last loss, NaN before the first step
}

// trainPanel is the training card: the form, the run (an engine/train
// Trainer whose checkpoints go to the browser's storage) and its
// lifecycle (lifecycle.go: each event goes through next, and this
// component carries out the effects), the loss chart and the preview. It
// publishes stateTraining and, while a run holds the page, stateModel.
type trainPanel struct {
	app.Compo

	ctx     app.Context
	session sessionRef
	model   modelState

	state     runState
	form      TrainSettings
	store     train.Store // nil until start-up found out which
	run       *train.Trainer
	halt      context.CancelFunc // pauses the loop
	inflight  chan struct{}      // closed when the build, restore or loop in flight ends
	saved     *savedRun
	savedNote string

	runModel *loadedModel // the model of run, as shown when it was made
	confirm  bool         // the dialog asking before the model is replaced is open
	prep     prepState    // what the preparation of a run is doing

	step, total int
	losses      []float32
	clock       stepClock
	rate        float64 // steps per second since the loop's first step began
	previewSeq  int
}

func (c *trainPanel) OnInit() { c.form = DefaultTrainSettings() }

func (c *trainPanel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.ctx = ctx
	ctx.ObserveState(stateSession, &c.session)
	ctx.ObserveState(stateModel, &c.model).OnChange(c.onModelChange)
	ctx.Handle(actionRecover, func(ctx app.Context, _ app.Action) { c.send(ctx, event{Kind: evDeviceLost}) })
	ctx.Async(c.findStore)
}

// OnDismount pauses a running loop.
func (c *trainPanel) OnDismount() {
	if c.halt != nil {
		c.halt()
	}
}

// send moves the lifecycle by e and carries out the effects.
func (c *trainPanel) send(ctx app.Context, e event) {
	var effs []effect
	c.state, effs = next(c.state, e)
	ctx.SetState(stateTraining, trainingState{Busy: c.state.locksModel(), HasRun: c.state.ownsModel()})
	if !c.state.active() {
		c.prep = prepState{}
	}
	for _, f := range effs {
		c.apply(ctx, f, e)
	}
}

func (c *trainPanel) apply(ctx app.Context, f effect, e event) {
	switch f {
	case effShowError:
		showUserError(ctx, "train", worded(e.Err))
	case effBuildRun:
		c.buildRun(ctx)
	case effRestoreRun:
		c.restoreRun(ctx)
	case effRunLoop:
		c.runLoop(ctx)
	case effPauseLoop:
		if c.halt != nil {
			c.halt()
		}
	case effRecoverRun:
		c.recoverRun(ctx)
	case effForget:
		c.run, c.saved = nil, nil
		if store := c.store; store != nil {
			ctx.Async(func() {
				if err := store.Remove(); err != nil {
					showUserError(ctx, "delete the saved training run", err)
				}
			})
		}
	case effDropRun:
		c.run = nil
	case effCheckSaved:
		if store := c.store; store != nil {
			ctx.Async(func() { c.checkSaved(store) })
		}
	case effPreview:
		c.requestPreview()
	case effFreshModel:
		c.showFreshModel(ctx)
	case effConfirm:
		c.confirm = true
	}
}

// onModelChange hears of every model the page shows: another than a
// finished run's own ends that run in the page (its checkpoint stays).
func (c *trainPanel) onModelChange() {
	if c.state == stDone && c.model.LM != c.runModel {
		c.send(c.ctx, event{Kind: evModelReplaced})
	}
}

// setPrep shows what the preparation is doing, from any goroutine.
func (c *trainPanel) setPrep(p prepState) {
	c.ctx.Dispatch(func(app.Context) {
		if c.state.active() {
			c.prep = p
		}
	})
}

// dispatch sends e from a goroutine.
func (c *trainPanel) dispatch(e event) {
	c.ctx.Dispatch(func(ctx app.Context) { c.send(ctx, e) })
}

// begin marks work in flight (a build, restore or loop) and returns its
// end, which a recovery after a device loss waits for.
func (c *trainPanel) begin() func() {
	ch := make(chan struct{})
	c.inflight = ch
	return func() { close(ch) }
}

// findStore chooses where runs are saved (the browser's storage, or
// memory when it is unavailable) and looks for a saved run.
func (c *trainPanel) findStore() {
	if _, _, err := storeRead(runFile); err != nil {
		c.ctx.Dispatch(func(app.Context) {
			c.store = &train.MemStore{}
			c.savedNote = noteFor(err, "save training runs in this browser (a reload loses them)")
		})
		return
	}
	c.ctx.Dispatch(func(app.Context) { c.store = browserStore{} })
	c.checkSaved(browserStore{})
}

// checkSaved shows the run saved in store, if any (evSavedFound).
func (c *trainPanel) checkSaved(store train.Store) {
	info, found, err := train.ReadInfo(store)
	c.ctx.Dispatch(func(ctx app.Context) {
		switch {
		case err != nil:
			c.savedNote = noteFor(err, "read the training run saved in this browser (a new run replaces it)")
		case found:
			c.saved = &savedRun{Settings: settingsOf(info), Model: describeRunModel(info), Step: info.Step, Loss: float32(math.NaN())}
			if info.Step > 0 {
				c.saved.Loss = info.Losses[info.Step-1]
			}
			c.form = c.saved.Settings
			c.losses = info.Losses
			c.step, c.total = info.Step, info.Options.Steps
			c.send(ctx, event{Kind: evSavedFound})
		}
	})
}

// show makes run the page's run and lm (its model) the page's model.
func (c *trainPanel) show(ctx app.Context, run *train.Trainer, lm *loadedModel) {
	c.run, c.runModel = run, lm
	c.losses, c.step, c.total = run.Losses(), run.Step(), run.Opts.Steps
	ctx.SetState(stateModel, modelState{LM: lm})
}

// buildRun gathers the training images and builds a new run on the
// current model when it has the preset's configuration (fine-tuning),
// else on a fresh one.
func (c *trainPanel) buildRun(ctx app.Context) {
	s, cur, store, sess := c.form, c.model.LM, c.store, c.session.s
	if cur == nil || store == nil || sess == nil {
		c.send(ctx, event{Kind: evPrepareFailed, Err: errors.New("the page is still starting")})
		return
	}
	c.prep = prepState{Stage: prepImages}
	c.step, c.total, c.losses, c.rate = 0, s.Steps, nil, 0 // the new run's, not the last one's
	showError(ctx, "")
	end := c.begin()
	progress := func(done, total int) { c.setPrep(prepState{Stage: prepImages, Done: done, Total: total}) }
	ctx.NewActionWithValue(actionImages, imagesRequest{Progress: progress, Done: func(images []recon.Pixels, names []string, err error) {
		defer end()
		var run *train.Trainer
		var lm *loadedModel
		if err == nil {
			c.setPrep(prepState{Stage: prepBuild})
			err = sess.do(func(k backend.Kernels) (err error) {
				run, lm, err = newPageRun(k, s, cur, images, names, store)
				return err
			})
		}
		if err != nil {
			c.dispatch(event{Kind: evPrepareFailed, Err: err})
			return
		}
		c.ctx.Dispatch(func(ctx app.Context) {
			c.show(ctx, run, lm)
			c.send(ctx, event{Kind: evReady})
		})
	}})
}

// newPageRun builds the run's model and the run (the caller holds the
// session's lock): the current model for PresetCurrent, else a fresh one
// of the preset.
func newPageRun(k backend.Kernels, s TrainSettings, cur *loadedModel, images []recon.Pixels, names []string, store train.Store) (*train.Trainer, *loadedModel, error) {
	lm, source, err := pageRunModel(k, s, cur)
	if err != nil {
		return nil, nil, err
	}
	net := lm.net()
	run, err := newRun(net, lm.Norm, s, images, names, store)
	if err != nil {
		return nil, nil, err
	}
	if lm, err = wrapNet(net, lm.Norm, "trained in this page from "+source); err != nil {
		return nil, nil, err
	}
	return run, lm, nil
}

// pageRunModel is the model a run of s starts from and where it came
// from.
func pageRunModel(k backend.Kernels, s TrainSettings, cur *loadedModel) (*loadedModel, string, error) {
	fresh := "a fresh initialisation"
	switch {
	case s.Preset == PresetCurrent && cur.Fresh:
		return cur, fresh, nil
	case s.Preset == PresetCurrent:
		return cur, cur.Source, nil
	case s.Preset == PresetTutorial:
		lm, err := freshTutorial(k, TutorialTrainConfig, s.Seed)
		return lm, fresh, err
	}
	lm, err := freshModel(k, s.Preset, s.Seed)
	return lm, fresh, err
}

// restoreRun restores the saved run.
func (c *trainPanel) restoreRun(ctx app.Context) {
	c.prep = prepState{Stage: prepRestore}
	c.restore(ctx, "restored from the saved training run", evReady, evPrepareFailed)
}

// recoverRun brings the run back on the CPU from its last checkpoint
// after the WebGPU device was lost, once the work in flight has ended.
func (c *trainPanel) recoverRun(ctx app.Context) {
	c.prep = prepState{Stage: prepRecover}
	c.restore(ctx, "restored from the last checkpoint after the WebGPU device was lost", evRecovered, evRecoverFailed)
}

func (c *trainPanel) restore(ctx app.Context, source string, ok, failed eventKind) {
	store, sess, wait := c.store, c.session.s, c.inflight
	end := c.begin()
	ctx.Async(func() {
		defer end()
		if wait != nil {
			<-wait
		}
		var run *train.Trainer
		var settings TrainSettings
		var lm *loadedModel
		err := sess.do(func(k backend.Kernels) (err error) {
			if run, settings, err = restoreRun(k, store); err == nil {
				lm, err = wrapNet(run.Net, run.Data.Norm, source)
			}
			return err
		})
		if err != nil {
			c.dispatch(event{Kind: failed, Err: fmt.Errorf("resume: %w", err)})
			return
		}
		c.ctx.Dispatch(func(ctx app.Context) {
			c.saved, c.form = nil, settings
			c.show(ctx, run, lm)
			c.send(ctx, event{Kind: ok, Done: run.Done()})
		})
	})
}

// showFreshModel replaces a model lost with the device by a fresh one.
func (c *trainPanel) showFreshModel(ctx app.Context) {
	sess := c.session.s
	ctx.Async(func() {
		var lm *loadedModel
		if err := sess.do(func(k backend.Kernels) (err error) { lm, err = freshModel(k, defaultPreset, FreshSeed); return err }); err == nil {
			ctx.SetState(stateModel, modelState{LM: lm})
		}
	})
}

// runLoop runs the trainer until the run ends or the loop is paused,
// yielding to the page between steps; the trainer checkpoints every
// saveEvery steps and when paused.
func (c *trainPanel) runLoop(ctx app.Context) {
	run, sess := c.run, c.session.s
	loop, halt := context.WithCancel(context.Background())
	c.halt = halt
	end := c.begin()
	ctx.Async(func() {
		defer end()
		if on, ok := run.Net.(train.OfficialNet); ok {
			compileTraining(sess, on.Model.Config, run.Opts.Batch, func(done, total int) {
				c.setPrep(prepState{Stage: prepCompile, Done: done, Total: total})
			})
		}
		c.setPrep(prepState{Stage: prepFirstStep})
		clock := startClock(run.Step(), time.Now())
		err := run.Run(loop, train.Hooks{Lock: &sess.mu, SaveEvery: saveEvery, OnStep: func(s train.StepInfo) {
			rate := clock.rate(s.Step, time.Now())
			c.ctx.Dispatch(func(app.Context) {
				c.step, c.rate, c.prep = s.Step, rate, prepState{}
				c.losses = append(c.losses, float32(s.Loss))
				if s.Step%previewEvery == 0 || s.Step == s.Steps {
					c.requestPreview()
				}
			})
			time.Sleep(time.Millisecond) // let the page handle events and paint
		}})
		switch {
		case sess.lost(err): // the page moves to the CPU and sends evDeviceLost
		case err != nil && !errors.Is(err, train.ErrInterrupted):
			c.dispatch(event{Kind: evLoopFailed, Err: err})
		default:
			c.dispatch(event{Kind: evLoopEnded, Done: run.Done()})
		}
	})
}

// requestPreview reconstructs the run's preview image (its first training
// image, fixed mask) and redraws the main view with the trained model.
func (c *trainPanel) requestPreview() {
	lm, sess := c.model.LM, c.session.s
	if c.run == nil || lm == nil || sess == nil {
		return
	}
	mask := maskState{Ratio: lm.Config.MaskRatio, Seed: 0}
	sess.reconstruct(reconJob{lm: lm, pix: c.run.Data.Train[0], mask: mask, preview: true, done: func(out reconOutput, err error) {
		c.ctx.Dispatch(func(ctx app.Context) { c.showPreview(ctx, out, err) })
	}})
	c.ctx.NewAction(actionRecon)
}

func (c *trainPanel) showPreview(ctx app.Context, out reconOutput, err error) {
	if err != nil {
		showUserError(ctx, "show the training preview", err)
		return
	}
	for i, id := range previewIDs {
		if err := drawRGBA(id, out.res.W, out.res.H, out.panels[i]); err != nil {
			showUserError(ctx, "draw the training preview", err)
			return
		}
	}
	c.previewSeq++
}

func (c *trainPanel) onStart(ctx app.Context, e app.Event) {
	c.send(ctx, event{Kind: evStart, Err: c.form.Validate(), Replaces: c.form.ReplacesModel()})
}

// onConfirm answers the dialog: replace the model and start, or not.
func (c *trainPanel) onConfirm(replace bool) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		c.confirm = false
		if replace {
			c.send(ctx, event{Kind: evStart, Err: c.form.Validate(), Replaces: c.form.ReplacesModel(), Confirmed: true})
		}
	}
}

func (c *trainPanel) onPause(ctx app.Context, e app.Event) { c.send(ctx, event{Kind: evPause}) }

func (c *trainPanel) onStop(ctx app.Context, e app.Event) { c.send(ctx, event{Kind: evStop}) }

// onDiscard forgets the saved run; the form returns to its default (the
// saved run's learning rate may be one for a fresh model).
func (c *trainPanel) onDiscard(ctx app.Context, e app.Event) {
	c.savedNote, c.losses, c.step, c.total, c.rate = "", nil, 0, 0, 0
	c.form = DefaultTrainSettings()
	c.send(ctx, event{Kind: evDiscard})
}

func (c *trainPanel) onForm(field string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		v := ctx.JSSrc().Get("value").String()
		f := c.form
		var err error
		switch field {
		case "preset":
			f = PresetDefaults(v)
			f.Seed = c.form.Seed
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
			showUserError(ctx, "use the training settings", worded(fmt.Errorf("%q is not a number for %s, so enter a number", v, field)))
			return
		}
		c.form = f
	}
}
