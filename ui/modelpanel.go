package ui

import (
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// modelPanel is the Model card: the current model's facts, loading
// .safetensors + config.json (stateModel) and downloading the model.
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
		showError(ctx, "stop the training run before loading another model")
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
			showError(ctx, fmt.Sprintf("model not loaded, the previous one stays: %v", err))
			return
		}
		showError(ctx, "")
		ctx.SetState(stateModel, modelState{LM: lm})
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
			showError(ctx, err.Error())
		}
	})
}

func (c *modelPanel) Render() app.UI {
	var rows []app.UI
	kv := func(k, v string) app.UI { return app.Div().Body(app.Dt().Text(k), app.Dd().Text(v)) }
	if lm := c.model.LM; lm != nil && lm.Tut != nil {
		rows = tutorialRows(lm, kv)
	} else if lm != nil {
		cfg := lm.Config
		rows = append(rows,
			kv("family", "the official MAE (facebookresearch/mae, Hugging Face ViTMAE): CLS token, fixed sin-cos positions"),
			kv("source", lm.Source),
			kv("input", fmt.Sprintf("%d×%d, %d channel(s), patch %d (%d patches)", cfg.ImageSize, cfg.ImageSize, cfg.NumChannels, cfg.PatchSize, cfg.NumPatches())),
			kv("encoder", fmt.Sprintf("%d wide × %d layers, %d heads, MLP %d", cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize)),
			kv("decoder", fmt.Sprintf("%d wide × %d layers, %d heads, MLP %d", cfg.DecoderHiddenSize, cfg.DecoderNumHiddenLayers, cfg.DecoderNumAttentionHeads, cfg.DecoderIntermediateSize)),
			kv("parameters", fmtParams(lm.Model.Layout.Total)),
			kv("target", map[bool]string{true: "per-patch normalised pixels (norm_pix_loss)", false: "normalised pixels"}[cfg.NormPixLoss]),
		)
	}
	return app.Section().Class("card", "model").Body(
		app.H2().Text("Model"),
		app.Dl().Class("facts").Body(rows...),
		app.Div().Class("buttons").Body(
			app.Label().For("model-input").Class("button").Text("Load .safetensors/.pth + config.json…"),
			app.Input().Type("file").ID("model-input").Attr("data-testid", "model-input").Class("hidden-input").
				Accept(".safetensors,.pth,.pt,.bin,.json").Multiple(true).OnChange(c.onModelInput),
			app.Button().Attr("data-testid", "model-download").Disabled(c.model.LM == nil).Text("Download").OnClick(c.onDownload),
		),
		app.P().Class("hint").Text("Hugging Face ViTMAE or official MAE weight names (e.g. facebook/vit-mae-base), or the tutorial's MAE with its config.json (\"architecture\": \"vit-pytorch-mae\"). The download is model.safetensors + config.json in the model's own format."),
	)
}
