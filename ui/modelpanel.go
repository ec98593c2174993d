package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// modelPanel is the Model card: the current model's summary, the bundled
// model choice, loading weights files (+ config.json; stateModel, and kept
// in browser storage: stateKept), downloading the model, and hubPanel.
type modelPanel struct {
	app.Compo

	ctx      app.Context
	session  sessionRef
	model    modelState
	training trainingState
}

func (c *modelPanel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.ctx = ctx
	ctx.ObserveState(stateSession, &c.session)
	ctx.ObserveState(stateModel, &c.model)
	ctx.ObserveState(stateTraining, &c.training)
}

func (c *modelPanel) onModelInput(ctx app.Context, e app.Event) {
	files := takeInputFiles("model-input")
	if len(files) == 0 || c.session.s == nil {
		return
	}
	if c.training.Busy {
		showUserError(ctx, "load another model", errTrainingBusy)
		return
	}
	setLoading(ctx, "Loading the model", -1)
	current := model.Config{}
	if c.model.LM != nil {
		current = c.model.LM.Config
	}
	s := c.session.s
	ctx.Async(func() {
		var lm *loadedModel
		data, err := files.read()
		if err == nil {
			err = s.do(func(k backend.Kernels) (err error) { lm, err = modelFromFiles(k, data, current); return err })
		}
		setLoading(ctx, "", 0)
		if err != nil {
			showUserError(ctx, "load the model file (the previous model stays)", worded(err))
			return
		}
		showError(ctx, "")
		ctx.SetState(stateModel, modelState{LM: lm})
		keepUpload(ctx, keptModels, data, lm)
	})
}

func (c *modelPanel) onDownload(ctx app.Context, e app.Event) {
	lm, s := c.model.LM, c.session.s
	if lm == nil || s == nil {
		return
	}
	ctx.Async(func() {
		var weights, cfg []byte
		err := s.do(func(backend.Kernels) (err error) { weights, cfg, err = modelFiles(lm); return err })
		if err == nil {
			err = download("model.safetensors", "application/octet-stream", weights)
		}
		if err == nil {
			time.Sleep(200 * time.Millisecond) // two downloads in a row: let the first start
			err = download("config.json", "application/json", cfg)
		}
		if err != nil {
			showUserError(ctx, "download the model", err)
		}
	})
}

func (c *modelPanel) Render() app.UI {
	return app.Section().Class("card", "model").Body(
		app.H2().Text("Model"),
		modelSummary(c.model.LM),
		c.renderBundled(),
		app.Div().Class("buttons").Body(
			app.Label().For("model-input").Class("button").Text("Load a model file (+ config.json)…"),
			app.Input().Type("file").ID("model-input").Attr("data-testid", "model-input").Class("hidden-input").
				Accept(".safetensors,.pth,.pt,.bin,.json").Multiple(true).OnChange(c.onModelInput),
			app.Button().Attr("data-testid", "model-download").Disabled(c.model.LM == nil).Text("Download").OnClick(c.onDownload),
			app.Button().Attr("data-testid", "model-restore").Disabled(c.training.Busy || len(availableBundled()) == 0).
				Title("bring back the bundled default model (a training run in progress must be paused and stopped first)").
				Text("Restore default model").OnClick(c.onRestore),
		),
		&hubPanel{},
		app.P().Class("hint").Text("A Hugging Face id (facebook/vit-mae-base), or .safetensors / PyTorch .pth, .bin files under Hugging Face ViTMAE or official MAE names, or the tutorial's MAE with its config.json (\"architecture\": \"vit-pytorch-mae\"); models brought in are kept in this browser. The download is model.safetensors + config.json in the model's own format."),
	)
}

// renderBundled is the choice between the models shipped with the site,
// when there is more than one.
func (c *modelPanel) renderBundled() app.UI {
	avail := availableBundled()
	if len(avail) < 2 {
		return app.Text("")
	}
	current := ""
	if c.model.LM != nil {
		current = c.model.LM.Source
	}
	var opts []app.UI
	matched := false
	for i, b := range avail {
		opt := app.Option().Value(fmt.Sprint(i)).Text(b.Label)
		if b.Source == current {
			opt, matched = opt.Selected(true), true
		}
		opts = append(opts, opt)
	}
	// Another model (a file, a fresh or trained one) selects a placeholder.
	placeholder := app.Option().Value("").Text("another model").Disabled(true).Selected(!matched)
	opts = append([]app.UI{placeholder}, opts...)
	return app.Label().Class("field").Body(
		app.Span().Text("Bundled model"),
		app.Select().ID("bundled-model").Attr("data-testid", "bundled-model").
			Disabled(c.training.Busy).OnChange(c.onBundled).Body(opts...),
	)
}

func (c *modelPanel) onBundled(ctx app.Context, e app.Event) {
	avail := availableBundled()
	i, err := strconv.Atoi(ctx.JSSrc().Get("value").String())
	if err != nil || i < 0 || i >= len(avail) || c.session.s == nil {
		return
	}
	if c.training.Busy {
		showUserError(ctx, "load another model", errTrainingBusy)
		return
	}
	b, s := avail[i], c.session.s
	setLoading(ctx, "Loading "+b.Source, 0)
	ctx.Async(func() {
		lm, err := loadBundled(ctx, s, b)
		setLoading(ctx, "", 0)
		if err != nil {
			showUserError(ctx, fmt.Sprintf("load %s (the previous model stays)", b.Source), err)
			return
		}
		showError(ctx, "")
		ctx.SetState(stateModel, modelState{LM: lm})
	})
}

// onRestore brings back the default bundled model, whatever the page
// shows (a trained, loaded or fresh model), and makes it the one a reload
// starts with.
func (c *modelPanel) onRestore(ctx app.Context, e app.Event) {
	avail, s := availableBundled(), c.session.s
	if len(avail) == 0 || s == nil {
		return
	}
	if c.training.Busy {
		showError(ctx, "stop the training run before restoring the default model")
		return
	}
	b := avail[0]
	setLoading(ctx, "Loading "+b.Source, 0)
	ctx.Async(func() {
		lm, err := loadBundled(ctx, s, b)
		setLoading(ctx, "", 0)
		if err != nil {
			showError(ctx, fmt.Sprintf("%s could not be loaded, the previous model stays: %v", b.Source, err))
			return
		}
		showError(ctx, "")
		ctx.SetState(stateModel, modelState{LM: lm})
		if err := keptModels.SetLast(""); err != nil {
			publishKept(ctx, keptModels, fmt.Sprintf("The default model is restored, but this browser could not record it (%v): a reload may start with the kept model used before.", err))
		}
	})
}
