package ui

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/model"
)

// previewNames are the short captions of the preview panels.
var previewNames = [4]string{"original", "masked", "recon", "+ visible"}

func (c *trainPanel) Render() app.UI {
	return app.Section().Class("card", "train").Body(
		app.H2().Text("Train in the browser"),
		app.P().Class("hint").Text("On the loaded images and the samples: random resized crops (scale 0.2–1), horizontal flips, ImageNet normalisation, mask ratio 0.75; AdamW (0.9, 0.95), weight decay 0.05, lr = base lr × batch / 256 with linear warmup and cosine decay. \"The loaded model\" fine-tunes the model shown, at a learning rate that keeps it; the other choices start a fresh model in its place (the page asks first). The tutorial choice trains the tutorial's MAE (vit-pytorch-mae)."),
		c.renderForm(),
		c.renderButtons(),
		// always present (hidden when idle): the nodes after it keep their
		// identity, which observers of the stats rely on
		app.P().Class("note", "prep").Attr("data-testid", "train-prep").Attr("data-stage", int(c.prep.Stage)).
			Hidden(c.prep.Stage == prepNone).Body(app.Span().Class("spinner"), app.Span().Text(c.prep.String())),
		app.Div().Class("notes").Body(
			app.If(c.saved != nil, func() app.UI {
				return app.P().Class("note").Attr("data-testid", "saved-note").Text(fmt.Sprintf(
					"A training run was saved in this browser: %s, step %d of %d. It continues exactly where it stopped.",
					c.saved.Model, c.saved.Step, c.saved.Settings.Steps))
			}),
			app.If(c.savedNote != "", func() app.UI { return app.P().Class("note", "warn").Text(c.savedNote) }),
		),
		progressBar(float64(c.step)/float64(max(c.total, 1))),
		c.renderStats(),
		app.Div().Class("trainview").Body(
			app.Div().Class("chartbox").Body(app.Raw(lossChart(c.losses, c.total))),
			app.Div().Class("preview").Attr("data-testid", "train-preview").Attr("data-seq", c.previewSeq).Body(
				app.Range(previewIDs).Slice(func(i int) app.UI {
					return app.Figure().Body(
						app.Canvas().ID(previewIDs[i]).Class("panel", "small"),
						app.FigCaption().Text(previewNames[i]),
					)
				}),
				app.P().Class("hint").Text(fmt.Sprintf("Preview: the first training image, fixed mask, refreshed every %d steps.", previewEvery)),
			),
		),
		app.If(c.confirm, c.renderConfirm), // last: opening it moves no other node
	)
}

func (c *trainPanel) renderForm() app.UI {
	locked := c.state != stIdle && c.state != stDone
	f := c.form
	field := func(label, id string, input app.UI) app.UI {
		return app.Label().Class("field").For(id).Body(app.Span().Text(label), input)
	}
	num := func(id string, v any, min, step float64, h app.EventHandler) app.HTMLInput {
		return app.Input().Type("number").ID(id).Attr("data-testid", id).Min(min).Step(step).
			Value(v).Disabled(locked).OnChange(h)
	}
	var presets []app.UI
	for _, name := range TrainPresets {
		presets = append(presets, app.Option().Value(name).Selected(name == f.Preset).Text(c.presetLabel(name)))
	}
	// data-preset: the preset the form holds, so that a script can wait
	// for a choice to be applied before it edits the fields the choice fills.
	return app.Div().Class("form").Attr("data-testid", "train-form").Attr("data-preset", f.Preset).Body(
		field("Model", "train-preset", app.Select().ID("train-preset").Attr("data-testid", "train-preset").
			Disabled(locked).OnChange(c.onForm("preset")).Body(presets...)),
		field("Batch", "train-batch", num("train-batch", f.Batch, 1, 1, c.onForm("batch")).Max(MaxTrainBatch)),
		field("Steps", "train-steps", num("train-steps", f.Steps, 1, 1, c.onForm("steps")).Max(MaxTrainSteps)),
		field("Base lr", "train-lr", num("train-lr", strconv.FormatFloat(f.BaseLR, 'g', -1, 64), 0, 0, c.onForm("lr")).Attr("step", "any")),
		field("Warmup steps", "train-warmup", num("train-warmup", f.Warmup, 0, 1, c.onForm("warmup"))),
	)
}

func (c *trainPanel) renderButtons() app.UI {
	s := c.state
	startText := "Start training"
	switch {
	case s == stPaused:
		startText = "Resume"
	case s == stSaved && c.saved != nil && c.saved.Step >= c.saved.Settings.Steps:
		startText = "Restore trained model"
	case s == stSaved && c.saved != nil:
		startText = fmt.Sprintf("Resume from step %d", c.saved.Step)
	case s == stDone:
		startText = "Train again"
	}
	stoppable := s == stRunning || s == stPausing || s == stStopping || s == stPaused || s == stDone
	return app.Div().Class("buttons").Body(
		app.Button().Class("primary").Attr("data-testid", "train-start").Disabled(s.active() || c.model.LM == nil).
			Text(startText).OnClick(c.onStart),
		app.Button().Attr("data-testid", "train-pause").Disabled(s != stRunning).
			Text("Pause").OnClick(c.onPause),
		app.Button().Attr("data-testid", "train-stop").Disabled(!stoppable).
			Title("end the run: its model stays in the page, its saved state is deleted").
			Text("Stop").OnClick(c.onStop),
		app.If(s == stSaved, func() app.UI {
			return app.Button().Class("link").Attr("data-testid", "train-discard").Text("Discard saved run").OnClick(c.onDiscard)
		}),
	)
}

func (c *trainPanel) renderStats() app.UI {
	lastLoss := "–"
	if n := len(c.losses); n > 0 {
		lastLoss = fmt.Sprintf("%.4f", c.losses[n-1])
	} else if c.saved != nil && !math.IsNaN(float64(c.saved.Loss)) {
		lastLoss = fmt.Sprintf("%.4f", c.saved.Loss)
	}
	firstLoss := ""
	if len(c.losses) > 0 {
		firstLoss = strconv.FormatFloat(float64(c.losses[0]), 'g', -1, 32)
	}
	eta := "–"
	if c.rate > 0 && c.state.active() {
		eta = fmtDuration(time.Duration(float64(c.total-c.step) / c.rate * float64(time.Second)))
	}
	return app.Div().Class("metrics").Attr("data-state", c.state.String()).Attr("data-testid", "train-stats").Body(
		app.Span().Body(app.Text("step "), app.Strong().Attr("data-testid", "train-step").Text(strconv.Itoa(c.step)),
			app.Text(fmt.Sprintf(" / %d", c.total))),
		app.Span().Body(app.Text("loss "), app.Strong().Attr("data-testid", "train-loss").Attr("data-first", firstLoss).Text(lastLoss)),
		app.Span().Attr("data-testid", "train-speed").Text(fmtSpeed(c.rate)),
		app.Span().Body(app.Strong().Text(fmtRate(c.rate*float64(c.form.Batch))), app.Text(" images/s")),
		app.Span().Body(app.Text("left "), app.Strong().Text(eta)),
		app.Span().Class("state").Text(c.state.String()),
	)
}

// presetLabel is the form's text for a model choice.
func (c *trainPanel) presetLabel(name string) string {
	switch name {
	case PresetCurrent:
		if lm := c.model.LM; lm != nil {
			return fmt.Sprintf("the loaded model (%d px) · fine-tune", lm.Config.ImageSize)
		}
		return "the loaded model · fine-tune"
	case PresetTutorial:
		return fmt.Sprintf("tutorial · a fresh tutorial's MAE, %d px", TutorialTrainConfig.ImageSize)
	}
	if cfg, err := model.Preset(name); err == nil {
		return fmt.Sprintf("%s · a fresh %d px model", name, cfg.ImageSize)
	}
	return name
}

// renderConfirm is the dialog asking before a run replaces the model.
func (c *trainPanel) renderConfirm() app.UI {
	shown := "the model shown"
	if lm := c.model.LM; lm != nil {
		shown = lm.Source
	}
	return app.Div().Class("modal").Body(
		app.Div().Class("dialog").Attr("role", "dialog").Attr("aria-modal", "true").
			Attr("aria-labelledby", "train-confirm-title").Attr("data-testid", "train-confirm").Body(
			app.H3().ID("train-confirm-title").Text("Replace the loaded model?"),
			app.P().Text(fmt.Sprintf("Training \"%s\" starts a fresh, untrained model in place of %s. "+
				"\"Restore default model\" in the Model card brings back the bundled default model later.", c.presetLabel(c.form.Preset), shown)),
			app.Div().Class("buttons").Body(
				app.Button().Attr("data-testid", "train-confirm-cancel").AutoFocus(true).Text("Cancel").OnClick(c.onConfirm(false)),
				app.Button().Class("primary").Attr("data-testid", "train-confirm-ok").Text("Replace and train").OnClick(c.onConfirm(true)),
			),
		),
	)
}
