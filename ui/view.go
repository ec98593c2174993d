package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/model"
	"webmae/engine/recon"
)

// Render draws the page.
func (p *Page) Render() app.UI {
	return app.Div().Class("app").DataSet("dragging", p.dragging).Body(
		p.renderHeader(),
		// Conditional parts live inside fixed containers: go-app matches
		// children by position, and a shifted sibling would be replaced,
		// losing the pixels drawn on its canvases.
		app.Div().Class("banners").Body(
			app.If(p.errMsg != "", func() app.UI {
				return app.Div().Class("banner", "error").Role("alert").Body(
					app.Span().Attr("data-testid", "error").Text(p.errMsg),
					app.Button().Class("link").Text("Dismiss").OnClick(func(ctx app.Context, e app.Event) { p.errMsg = "" }),
				)
			}),
			app.If(p.updated, func() app.UI {
				return app.Div().Class("banner").Attr("data-testid", "update").Body(
					app.Span().Text("A new version of webmae was downloaded: reload to use it (a training run resumes from its last save)."),
					app.Button().Class("link").Text("Reload").OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
				)
			}),
			app.If(p.loading != "", func() app.UI {
				return app.Div().Class("banner", "loading").Attr("data-testid", "loading").Body(
					app.Span().Text(p.loading+"…"),
					p.progressBar(p.progress),
				)
			}),
		),
		app.Main().Class("layout").Body(
			p.renderRecon(),
			p.renderImages(),
			p.renderTraining(),
			p.renderModel(),
		),
		app.Footer().Class("foot").Body(
			app.Text("Masked Autoencoders Are Scalable Vision Learners, He et al. 2021 ("),
			app.A().Href("https://arxiv.org/abs/2111.06377").Text("arXiv:2111.06377"),
			app.Text("). Go compiled to WebAssembly; everything runs in this tab. Sample photographs: public domain and CC0, see "),
			app.A().Href("/web/samples/SOURCES.md").Text("SOURCES.md"),
			app.Text("."),
		),
		app.If(p.dragging, func() app.UI {
			return app.Div().Class("dropzone").Text("Drop images to reconstruct them")
		}),
	)
}

func (p *Page) progressBar(v float64) app.UI {
	if v < 0 {
		return app.Div().Class("bar", "indeterminate").Body(app.Div())
	}
	return app.Div().Class("bar").Aria("valuenow", int(v*100)).Role("progressbar").Body(
		app.Div().Style("width", "%.1f%%", 100*math.Min(v, 1)),
	)
}

func (p *Page) renderHeader() app.UI {
	modelText := "loading…"
	if p.lm != nil {
		modelText = fmt.Sprintf("%s · %s params · %s", describeConfig(p.lm.Config), fmtParams(p.lm.Model.Layout.Total), p.lm.Source)
	}
	return app.Header().Class("top").Body(
		app.Div().Class("brand").Body(
			app.Img().Src("/web/icon.svg").Alt("").Width(32).Height(32),
			app.H1().Text("webmae"),
			app.Span().Class("tagline").Text("masked autoencoders that reconstruct and train in your browser"),
		),
		app.Div().Class("status").Body(
			app.Span().Class("chip").Title("compute backend and WebGPU adapter").Attr("data-testid", "backend").Body(
				app.Strong().Text(p.backendText),
				app.If(p.adapterText != "", func() app.UI { return app.Span().Class("muted").Text(" · " + p.adapterText) }),
			),
			app.Span().Class("chip").Title("model").Attr("data-testid", "model-status").Text(modelText),
		),
	)
}

func (p *Page) renderRecon() app.UI {
	names := recon.PanelNames
	fig := func(i int, extra func(app.HTMLCanvas) app.HTMLCanvas) app.UI {
		c := app.Canvas().ID(panelIDs[i]).Attr("data-testid", panelIDs[i]).Class("panel")
		if extra != nil {
			c = extra(c)
		}
		return app.Figure().Body(c, app.FigCaption().Text(names[i]))
	}
	mse, psnr := "–", "–"
	if r := p.result; r != nil {
		mse = fmt.Sprintf("%.4f", r.MSE)
		psnr = fmt.Sprintf("%.2f dB", r.PSNR)
		if math.IsInf(r.PSNR, 1) {
			psnr = "∞ dB"
		}
	}
	l := max(p.patches, 1)
	ratioText := fmt.Sprintf("%.2f", p.mask.Ratio)
	if p.mask.Hand != nil {
		ratioText = fmt.Sprintf("%.3f (by hand)", float64(p.masked)/float64(l))
	}
	var notes []app.UI
	if p.lm != nil && p.lm.Fresh {
		notes = append(notes, app.P().Class("note", "warn").Attr("data-testid", "fresh-note").Text(
			fmt.Sprintf("No trained default model is bundled yet: this %s model is freshly initialised (seed %d), so its reconstructions are noise until it is trained (below) or another model is loaded.",
				describeConfig(p.lm.Config), FreshSeed)))
	}
	if p.result != nil && p.result.NormPix {
		notes = append(notes, app.P().Class("note").Attr("data-testid", "normpix-note").Text(
			"This model was trained with norm_pix_loss: its predictions are shown de-normalised with each patch's own mean and standard deviation, as in the official demo."))
	}
	pic := p.picture(p.current)
	if pic != nil {
		text := "Image: " + pic.Name
		if pic.Note != "" {
			text += " (" + pic.Note + ")"
		}
		if p.fitNote != "" {
			text += "; " + p.fitNote + " for the model"
		}
		notes = append(notes, app.P().Class("note").Attr("data-testid", "image-note").Text(text+"."))
	}
	return app.Section().Class("card", "recon").Body(
		app.Div().Class("panels").DataSet("busy", p.busy).Body(
			fig(0, nil),
			fig(1, func(c app.HTMLCanvas) app.HTMLCanvas {
				return c.Attr("data-masked", p.masked).Attr("data-patches", p.patches).
					Title("click a patch to mask or unmask it").Class("clickable").OnClick(p.onMaskedClick)
			}),
			fig(2, func(c app.HTMLCanvas) app.HTMLCanvas {
				return c.Attr("data-masked", p.drawnMasked).Attr("data-seq", p.drawSeq)
			}),
			fig(3, nil),
		),
		app.Div().Class("controls").Body(
			app.Label().For("mask-ratio").Class("ratio").Body(
				app.Span().Text("Masking ratio"),
				app.Input().Type("range").ID("mask-ratio").Attr("data-testid", "mask-ratio").
					Min(MinRatio).Max(MaxRatio).Step(0.01).Value(strconv.FormatFloat(p.mask.Ratio, 'f', -1, 64)).
					OnInput(p.onRatio),
				app.Output().For("mask-ratio").Text(ratioText),
			),
			app.Button().Attr("data-testid", "mask-reroll").Text("Re-roll mask").OnClick(p.onReroll),
			app.Label().Class("check").Body(
				app.Input().Type("checkbox").Attr("data-testid", "mask-block").Checked(p.mask.Block).OnChange(p.onBlock),
				app.Text(" block-wise"),
			),
		),
		app.Div().Class("metrics").Body(
			app.Span().Body(app.Text("masked "), app.Strong().Text(fmt.Sprintf("%d / %d", p.masked, p.patches)), app.Text(" patches")),
			app.Span().Body(app.Text("masked-patch MSE "), app.Strong().Attr("data-testid", "recon-mse").Text(mse)),
			app.Span().Body(app.Text("PSNR "), app.Strong().Attr("data-testid", "recon-psnr").Text(psnr)),
			app.Span().Class("hint").Text("Click patches on the masked view to toggle them."),
		),
		app.Range(notes).Slice(func(i int) app.UI { return notes[i] }),
	)
}

func (p *Page) renderImages() app.UI {
	var items []app.UI
	for _, pic := range p.pictures {
		if strings.HasPrefix(pic.Key, "upload-") {
			items = append(items, p.thumb(pic.Key, pic.Name, pic.Thumb))
		}
	}
	for _, s := range Samples {
		items = append(items, p.thumb("sample-"+s.Name, s.Title, s.URL()))
	}
	return app.Aside().Class("card", "images").Body(
		app.H2().Text("Images"),
		app.Div().Class("open").Body(
			app.Label().For("image-input").Class("button", "primary").Text("Open images…"),
			app.Input().Type("file").ID("image-input").Attr("data-testid", "image-input").Class("hidden-input").
				Accept("image/*").Multiple(true).OnChange(p.onImageInput),
			app.Span().Class("hint").Text("or drop or paste them anywhere on the page"),
		),
		app.P().Class("hint").Text(fmt.Sprintf("Decoded in the browser; larger than %d px is downscaled, over %d MB refused; then centre-cropped and resized to the model's input.", MaxImageSide, MaxImageBytes>>20)),
		app.Div().Class("gallery").Body(items...),
	)
}

// thumb is a gallery item. Its handler is the same method for every item
// (go-app keeps a handler that looks unchanged, so closures over the key
// would stay bound to the item first rendered at that position); the key
// travels in data-key.
func (p *Page) thumb(key, title, src string) app.UI {
	return app.Button().Class("thumb").Attr("data-testid", key).DataSet("key", key).
		Attr("aria-pressed", key == p.current).Title(title).OnClick(p.onThumb).Body(
		app.Img().Src(src).Alt(title).Attr("loading", "lazy"),
	)
}

func (p *Page) renderTraining() app.UI {
	active := p.trainState == trainRunning || p.trainState == trainPausing
	locked := active || p.trainState == trainPaused || p.saved != nil
	f := p.form
	startText := "Start training"
	switch {
	case p.trainState == trainPaused:
		startText = "Resume"
	case p.saved != nil && p.saved.Step >= p.saved.Settings.Steps:
		startText = "Restore trained model"
	case p.saved != nil:
		startText = fmt.Sprintf("Resume from step %d", p.saved.Step)
	case p.trainState == trainDone:
		startText = "Train again"
	}
	total := max(p.trainTotal, 1)
	lastLoss := "–"
	if n := len(p.losses); n > 0 {
		lastLoss = fmt.Sprintf("%.4f", p.losses[n-1])
	} else if p.saved != nil && !math.IsNaN(float64(p.saved.Loss)) {
		lastLoss = fmt.Sprintf("%.4f", p.saved.Loss)
	}
	firstLoss := ""
	if len(p.losses) > 0 {
		firstLoss = strconv.FormatFloat(float64(p.losses[0]), 'g', -1, 32)
	}
	eta := "–"
	if p.rate > 0 && active {
		eta = fmtDuration(time.Duration(float64(p.trainTotal-p.trainStep) / p.rate * float64(time.Second)))
	}
	field := func(label, id string, input app.UI) app.UI {
		return app.Label().Class("field").For(id).Body(app.Span().Text(label), input)
	}
	num := func(id string, v any, min, step float64, h app.EventHandler) app.HTMLInput {
		return app.Input().Type("number").ID(id).Attr("data-testid", id).Min(min).Step(step).
			Value(v).Disabled(locked).OnChange(h)
	}
	var presets []app.UI
	for _, name := range TrainPresets {
		cfg, _ := model.Preset(name)
		presets = append(presets, app.Option().Value(name).Selected(name == f.Preset).
			Text(fmt.Sprintf("%s · %d px", name, cfg.ImageSize)))
	}
	return app.Section().Class("card", "train").Body(
		app.H2().Text("Train in the browser"),
		app.P().Class("hint").Text("On the loaded images and the samples: random resized crops (scale 0.2–1), horizontal flips, ImageNet normalisation, mask ratio 0.75; AdamW (0.9, 0.95), weight decay 0.05, lr = base lr × batch / 256 with linear warmup and cosine decay. A preset that matches the current model fine-tunes it; another starts fresh."),
		app.Div().Class("form").Body(
			field("Preset", "train-preset", app.Select().ID("train-preset").Attr("data-testid", "train-preset").
				Disabled(locked).OnChange(p.onForm("preset")).Body(presets...)),
			field("Batch", "train-batch", num("train-batch", f.Batch, 1, 1, p.onForm("batch")).Max(MaxTrainBatch)),
			field("Steps", "train-steps", num("train-steps", f.Steps, 1, 1, p.onForm("steps")).Max(MaxTrainSteps)),
			field("Base lr", "train-lr", num("train-lr", strconv.FormatFloat(f.BaseLR, 'g', -1, 64), 0, 0, p.onForm("lr")).Attr("step", "any")),
			field("Warmup steps", "train-warmup", num("train-warmup", f.Warmup, 0, 1, p.onForm("warmup"))),
		),
		app.Div().Class("buttons").Body(
			app.Button().Class("primary").Attr("data-testid", "train-start").Disabled(active || p.lm == nil).
				Text(startText).OnClick(p.onTrainStart),
			app.Button().Attr("data-testid", "train-pause").Disabled(p.trainState != trainRunning).
				Text("Pause").OnClick(p.onTrainPause),
			app.Button().Attr("data-testid", "train-stop").Disabled(!(active || p.trainState == trainPaused || p.trainState == trainDone)).
				Title("end the run: its model stays in the page, its saved state is deleted").
				Text("Stop").OnClick(p.onTrainStop),
			app.If(p.saved != nil, func() app.UI {
				return app.Button().Class("link").Attr("data-testid", "train-discard").Text("Discard saved run").OnClick(p.onDiscardSaved)
			}),
		),
		app.Div().Class("notes").Body(
			app.If(p.saved != nil, func() app.UI {
				return app.P().Class("note").Attr("data-testid", "saved-note").Text(fmt.Sprintf(
					"A training run was saved in this browser: %s, step %d of %d. It continues exactly where it stopped.",
					p.saved.Settings.Preset, p.saved.Step, p.saved.Settings.Steps))
			}),
			app.If(p.savedNote != "", func() app.UI { return app.P().Class("note", "warn").Text(p.savedNote) }),
		),
		p.progressBar(float64(p.trainStep)/float64(total)),
		app.Div().Class("metrics").Attr("data-state", p.trainState).Attr("data-testid", "train-stats").Body(
			app.Span().Body(app.Text("step "), app.Strong().Attr("data-testid", "train-step").Text(strconv.Itoa(p.trainStep)),
				app.Text(fmt.Sprintf(" / %d", p.trainTotal))),
			app.Span().Body(app.Text("loss "), app.Strong().Attr("data-testid", "train-loss").Attr("data-first", firstLoss).Text(lastLoss)),
			app.Span().Body(app.Strong().Text(fmtRate(p.rate)), app.Text(" steps/s")),
			app.Span().Body(app.Strong().Text(fmtRate(p.rate*float64(f.Batch))), app.Text(" images/s")),
			app.Span().Body(app.Text("left "), app.Strong().Text(eta)),
			app.Span().Class("state").Text(p.trainState),
		),
		app.Div().Class("trainview").Body(
			app.Div().Class("chartbox").Body(app.Raw(lossChartSVG(p.losses, p.trainTotal))),
			app.Div().Class("preview").Attr("data-testid", "train-preview").Attr("data-seq", p.previewSeq).Body(
				app.Range(previewIDs).Slice(func(i int) app.UI {
					return app.Figure().Body(
						app.Canvas().ID(previewIDs[i]).Class("panel", "small"),
						app.FigCaption().Text(previewNames[i]),
					)
				}),
				app.P().Class("hint").Text(fmt.Sprintf("Preview: the first training image, fixed mask, refreshed every %d steps.", previewEvery)),
			),
		),
	)
}

// previewNames are the short captions of the preview panels.
var previewNames = [4]string{"original", "masked", "recon", "+ visible"}

func (p *Page) renderModel() app.UI {
	return app.Section().Class("card", "model").Body(
		app.H2().Text("Model"),
		modelSummary(p.lm),
		app.Div().Class("buttons").Body(
			app.Label().For("model-input").Class("button").Text("Load a model file (+ config.json)…"),
			app.Input().Type("file").ID("model-input").Attr("data-testid", "model-input").Class("hidden-input").
				Accept(".safetensors,.pth,.pt,.bin,.json").Multiple(true).OnChange(p.onModelInput),
			app.Button().Attr("data-testid", "model-download").Disabled(p.lm == nil).Text("Download").OnClick(p.onDownload),
		),
		p.renderHub(),
		app.P().Class("hint").Text("A Hugging Face id (facebook/vit-mae-base), or .safetensors / PyTorch .pth, .bin files under Hugging Face ViTMAE or official MAE names; models brought in are kept in this browser. The download is model.safetensors + config.json in Hugging Face format."),
	)
}
