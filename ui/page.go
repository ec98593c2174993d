package ui

import (
	"errors"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/explore"
	"webmae/engine/gpu"
	"webmae/engine/model"
)

const defaultPreset = model.PresetTiny

// Page is the demo's root: the layout of the components (shared.go lists
// them), the start-up (backend, the model and first sample a link names or
// the defaults), the settings in the URL (link.go) and the move to the CPU
// when the WebGPU device is lost.
type Page struct {
	app.Compo

	s        *session
	dragging bool
	lost     bool // the device was lost (UI goroutine only)
	mask     maskState
}

// OnMount starts the page's work in the browser.
func (p *Page) OnMount(ctx app.Context) {
	if app.IsServer || !firstPage(ctx) {
		return
	}
	p.s = &session{ctx: ctx}
	ctx.SetState(stateSession, sessionRef{p.s})
	ctx.SetState(stateBackend, backendState{Text: "starting…"})
	ctx.ObserveState(stateDragging, &p.dragging)
	ctx.Handle(actionDeviceLost, p.onDeviceLost)
	// reconView publishes the mask with every reconstruction it asks for,
	// so after every change of the model, picture or mask.
	ctx.ObserveState(stateMask, &p.mask).OnChange(func() { writeLink(ctx) })
	ctx.Async(func() { p.startup(ctx) })
}

// Render lays the components out.
func (p *Page) Render() app.UI {
	return app.Div().Class("app").DataSet("dragging", p.dragging).Body(
		&statusBar{},
		&banners{},
		app.Main().Class("layout").Body(
			&reconView{},
			&explorer{},
			&gallery{},
			&trainPanel{},
			&modelPanel{},
		),
		app.Footer().Class("foot").Body(
			app.Text("Masked Autoencoders Are Scalable Vision Learners, He et al. 2021 ("),
			app.A().Href("https://arxiv.org/abs/2111.06377").Text("arXiv:2111.06377"),
			app.Text("). Go compiled to WebAssembly; everything runs in this tab. Sample photographs: public domain and CC0, see "),
			app.A().Href("/web/samples/SOURCES.md").Text("SOURCES.md"),
			app.Text(". Check this browser: "),
			app.A().Href(SelfTestPath).Attr("data-testid", "link-selftest").Text("self-test (PyTorch parity)"),
			app.Text(", "),
			app.A().Href(BenchPath).Attr("data-testid", "link-bench").Text("benchmark"),
			app.Text("."),
		),
		app.If(p.dragging, func() app.UI {
			return app.Div().Class("dropzone").Text("Drop images to reconstruct them")
		}),
	)
}

// startup chooses the backend, loads the start model and the first
// sample. It runs in its own goroutine.
func (p *Page) startup(ctx app.Context) {
	mark("startup")
	setLoading(ctx, "Starting the engine", -1)
	k, backendText, adapterText := chooseBackend()
	p.s.setBackend(k)
	mark("backend")
	ctx.SetState(stateBackend, backendState{Text: backendText, Adapter: adapterText})
	// The pipelines compile while the link's state and the model are
	// fetched (the session's lock orders the compilation and the model's
	// upload); the sample is loaded once both are done.
	compiled := make(chan struct{})
	go func() {
		defer close(compiled)
		compileFirst(ctx, p.s)
	}()
	setLoading(ctx, "Loading the model", 0)

	link, linked, linkErr := readLink()
	if linkErr != nil {
		showUserError(ctx, "use the settings of this link", worded(linkErr))
		link, linked = explore.State{}, false
	}
	var lm *loadedModel
	if err := p.s.do(func(k backend.Kernels) (err error) { lm, err = linkedModel(k, link); return err }); err != nil {
		showUserError(ctx, "use the model this link names", worded(err)) // and fall back to the bundled model
	}
	var err error
	if lm == nil {
		lm, err = p.loadStartModel(ctx)
	}
	<-compiled
	mark("model")
	if err != nil {
		showUserError(ctx, fmt.Sprintf("load the bundled model (a freshly initialised %s is shown)", defaultPreset), err)
	}
	if lm == nil {
		if err := p.s.do(func(k backend.Kernels) (err error) { lm, err = freshModel(k, defaultPreset, FreshSeed); return err }); err != nil {
			showUserError(ctx, fmt.Sprintf("create the %s model", defaultPreset), err)
			setLoading(ctx, "", 0)
			return
		}
	}
	if linked {
		// Posted before the model is set: reconView takes the link's mask
		// first (actions and state changes reach it in order).
		ctx.NewActionWithValue(actionSetMask, linkedMask(link, maskState{Ratio: DefaultRatio, Seed: 1}))
	}
	ctx.SetState(stateModel, modelState{LM: lm})
	setLoading(ctx, "Loading the sample images", -1)
	first, err := linkedSample(link)
	if err != nil {
		showUserError(ctx, "show the image this link names", worded(err))
	}
	done := make(chan struct{})
	ctx.NewActionWithValue(actionSample, sampleRequest{Sample: first, Show: true, Done: func(error) { close(done) }})
	<-done
	setLoading(ctx, "", 0)
}

// loadStartModel is the model the page starts with: the kept model in use
// before the reload when there is one (modelkeep.go), else the default
// bundled model.
func (p *Page) loadStartModel(ctx app.Context) (*loadedModel, error) {
	lm, err := restoreKept(ctx, p.s, keptModels)
	if err != nil {
		showUserError(ctx, "restore the model in use before the reload (the bundled one is shown)", err)
	}
	if lm != nil {
		return lm, nil
	}
	return p.loadDefaultModel(ctx)
}

// loadDefaultModel fetches the default bundled model; nil (and no error)
// when none is bundled.
func (p *Page) loadDefaultModel(ctx app.Context) (*loadedModel, error) {
	avail := availableBundled()
	if len(avail) == 0 {
		return nil, nil
	}
	return loadBundled(ctx, p.s, avail[0])
}

// onDeviceLost moves the page to the CPU backend after the WebGPU device
// is lost, once: a training run in the page comes back from its last
// checkpoint (actionRecover, the training panel's), any other model is
// rebuilt on the CPU.
func (p *Page) onDeviceLost(ctx app.Context, a app.Action) {
	if p.lost {
		return
	}
	p.lost = true
	cause, _ := a.Value.(error)
	ctx.SetState(stateBackend, backendState{Text: cpuBackendText, Adapter: "the WebGPU device was lost; continuing on the CPU"})
	msg := "The WebGPU device was lost, so the page continues on the CPU backend."
	showUserError(ctx, "keep using WebGPU", errors.Join(gpu.ErrDeviceLost, cause))
	var tr trainingState
	ctx.GetState(stateTraining, &tr)
	var ms modelState
	ctx.GetState(stateModel, &ms)
	setLoading(ctx, "Moving to the CPU backend", -1)
	ctx.Async(func() {
		p.s.setBackend(cpuBackend())
		if tr.HasRun {
			ctx.NewAction(actionRecover)
			return
		}
		var lm *loadedModel
		err := p.s.do(func(k backend.Kernels) (err error) {
			if ms.LM != nil && ms.LM.rebuild != nil {
				lm, err = ms.LM.rebuild(k)
			} else {
				lm, err = freshModel(k, defaultPreset, FreshSeed)
			}
			return err
		})
		if err != nil {
			consoleWarn(fmt.Sprintf("webmae: the model could not be restored on the CPU backend: %v", err))
			showError(ctx, msg+" The model could not be moved to the CPU, so a fresh one is shown: load it again or reload the page.")
			if err := p.s.do(func(k backend.Kernels) (err error) { lm, err = freshModel(k, defaultPreset, FreshSeed); return err }); err != nil {
				setLoading(ctx, "", 0)
				return
			}
		}
		setLoading(ctx, "", 0)
		ctx.SetState(stateModel, modelState{LM: lm})
	})
}
