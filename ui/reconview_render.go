package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/recon"
)

func (c *reconView) Render() app.UI {
	names, notes := recon.PanelNames, c.notes()
	fig := func(i int, extra func(app.HTMLCanvas) app.HTMLCanvas) app.UI {
		cv := app.Canvas().ID(panelIDs[i]).Attr("data-testid", panelIDs[i]).Class("panel")
		if extra != nil {
			cv = extra(cv)
		}
		return app.Figure().Body(cv, app.FigCaption().Text(names[i]))
	}
	busy := c.busy()
	return app.Section().Class("card", "recon").Body(
		app.Div().Class("panels").DataSet("busy", busy).Body(
			fig(0, nil),
			c.renderMaskedView(names[1]),
			fig(2, func(cv app.HTMLCanvas) app.HTMLCanvas {
				return cv.Attr("data-masked", c.drawnMasked).Attr("data-seq", c.drawSeq)
			}),
			fig(3, nil),
			app.If(busy, func() app.UI {
				return app.Div().ID("recon-busy").Class("recon-busy").Attr("data-testid", "recon-busy").
					Attr("role", "status").Attr("aria-live", "polite").Body(
					app.Span().Class("spinner").Attr("aria-hidden", "true"),
					app.Span().Text(busyText(c.compile, c.result == nil)),
				)
			}),
		),
		c.renderControls(),
		c.renderMetrics(),
		c.renderErrorMap(),
		app.Range(notes).Slice(func(i int) app.UI { return notes[i] }),
	)
}

// renderMaskedView is the masked panel: clickable, and focusable with a
// ring on the patch the keyboard is on.
func (c *reconView) renderMaskedView(caption string) app.UI {
	g := 1
	if lm := c.model.LM; lm != nil {
		g = lm.Config.GridSize()
	}
	f := min(c.focusPatch, g*g-1)
	row, col := f/g, f%g
	state := "visible"
	if f < len(c.maskBits) && c.maskBits[f] {
		state = "masked"
	}
	label := fmt.Sprintf("Masked view, %d by %d patches: arrow keys move between patches, space or Enter masks or unmasks the focused one (row %d, column %d, %s).",
		g, g, row+1, col+1, state)
	if c.attn {
		label = fmt.Sprintf("Masked view, %d by %d patches: arrow keys move between patches, space or Enter shows where the focused one attends (row %d, column %d).", g, g, row+1, col+1)
	}
	pct := func(v int) string { return strconv.FormatFloat(100*float64(v)/float64(g), 'f', 4, 64) + "%" }
	return app.Figure().Body(
		app.Div().Class("panel-wrap").Body(
			app.Canvas().ID(panelIDs[1]).Attr("data-testid", panelIDs[1]).Class("panel", "clickable").
				Attr("data-masked", c.masked).Attr("data-patches", c.patches).
				Attr("data-masked-list", c.maskedList).Attr("data-focus-patch", f).
				TabIndex(0).Aria("label", label).
				Title(c.clickTitle()).OnClick(c.onMaskedClick).OnKeyDown(c.onMaskedKey),
			app.Div().Class("patch-focus").Attr("data-testid", "patch-focus").Attr("aria-hidden", "true").
				Style("left", pct(col)).Style("top", pct(row)).Style("width", pct(1)).Style("height", pct(1)),
		),
		app.FigCaption().Text(caption),
	)
}

func (c *reconView) renderControls() app.UI {
	ratioText := fmt.Sprintf("%.2f", c.mask.Ratio)
	if c.mask.Hand != nil {
		ratioText = fmt.Sprintf("%.3f (by hand)", float64(c.masked)/float64(max(c.patches, 1)))
	}
	return app.Div().Class("controls").Body(
		app.Label().For("mask-ratio").Class("ratio").Body(
			app.Span().Text("Masking ratio"),
			app.Input().Type("range").ID("mask-ratio").Attr("data-testid", "mask-ratio").
				Min(MinRatio).Max(MaxRatio).Step(0.01).Value(strconv.FormatFloat(c.mask.Ratio, 'f', -1, 64)).
				OnInput(c.onRatio),
			app.Output().For("mask-ratio").Attr("data-testid", "mask-ratio-text").Text(ratioText),
		),
		app.Button().Attr("data-testid", "mask-reroll").Text("Re-roll mask").OnClick(c.onReroll),
		app.Label().Class("check").Body(
			app.Input().Type("checkbox").Attr("data-testid", "mask-block").Checked(c.mask.Block).OnChange(c.onBlock),
			app.Text(" block-wise"),
		),
	)
}

func (c *reconView) renderMetrics() app.UI {
	mse, psnr := "–", "–"
	if r := c.result; r != nil {
		mse = fmt.Sprintf("%.4f", r.MSE)
		psnr = fmt.Sprintf("%.2f dB", r.PSNR)
		if math.IsInf(r.PSNR, 1) {
			psnr = "∞ dB"
		}
	}
	unit := ""
	if lm := c.model.LM; lm != nil {
		unit = unitNote(lm.Norm)
	}
	count := "–"
	if c.patches > 0 {
		count = fmt.Sprintf("%d / %d", c.masked, c.patches)
	}
	return app.Div().Class("metrics").Body(
		app.Span().Body(app.Text("masked "), app.Strong().Text(count), app.Text(" patches")),
		app.Span().Body(app.Text("masked-patch MSE "), app.Strong().Attr("data-testid", "recon-mse").Text(mse)),
		app.Span().Body(app.Text("PSNR "), app.Strong().Attr("data-testid", "recon-psnr").Text(psnr)),
		c.renderBaselines(),
		app.P().Class("hint", "unit").Attr("data-testid", "recon-unit").Text(unit),
		app.Div().Class("recon-actions").Body(
			app.Label().Class("check").Body(
				app.Input().Type("checkbox").ID("error-map").Attr("data-testid", "error-map").
					Checked(c.errorMap).OnChange(c.onErrorMap),
				app.Text(" error map"),
			),
			app.Button().Attr("data-testid", "save-panels").Text("Save panels (PNG)").
				Title("download the four panels as one PNG, as displayed").
				Disabled(c.result == nil || c.busy()).OnClick(c.onSave),
			app.Span().Class("hint").Text("Click patches on the masked view, or focus it and use the arrow keys and space, to toggle them."),
		),
	)
}

// renderBaselines is the same mask's mean-fill and interpolation MSE.
func (c *reconView) renderBaselines() app.UI {
	el := app.Span().Class("baselines").Attr("data-testid", "recon-baseline")
	b := c.baselines
	if c.result == nil || b == nil || b.Seq != c.drawSeq {
		pending := "–"
		if c.result != nil {
			pending = "…" // being measured
		}
		return el.Attr("data-ready", "false").Body(app.Text("same mask: mean fill "), app.Strong().Text(pending),
			app.Text(", interpolation "), app.Strong().Text(pending))
	}
	_, beat := beatsInterpolation(b.ModelPatch, b.IDWPatch)
	return el.Attr("data-ready", "true").Attr("data-mean", fmt.Sprintf("%.6f", b.Mean)).
		Attr("data-idw", fmt.Sprintf("%.6f", b.IDW)).Attr("data-idw-ms", b.IDWTime.Milliseconds()).
		Attr("data-beats", beat).Attr("data-seq", b.Seq).
		Title(fmt.Sprintf("mean fill: every masked pixel is the mean colour of the visible ones; interpolation: inverse-distance weighting (power %d) of every visible pixel, computed in %d ms", recon.IDWPower, b.IDWTime.Milliseconds())).
		Body(app.Text("same mask: mean fill "), app.Strong().Text(fmt.Sprintf("%.4f", b.Mean)),
			app.Text(", interpolation "), app.Strong().Text(fmt.Sprintf("%.4f", b.IDW)))
}

// renderErrorMap is the per-patch error map with its legend, when on.
func (c *reconView) renderErrorMap() app.UI {
	if !c.errorMap {
		return nil
	}
	b := c.baselines
	ready := c.result != nil && b != nil && b.Seq == c.drawSeq
	legend := "Computing the per-patch errors…"
	hi, beat, masked := 1.0, 0, 0
	if ready {
		hi = errorScaleMax(b.ModelPatch)
		_, beat = beatsInterpolation(b.ModelPatch, b.IDWPatch)
		masked = c.result.NumMasked()
		legend = fmt.Sprintf("Outlined: the %d of %d masked patches where the model beats interpolation. Visible patches are greyed.", beat, masked)
	}
	return app.Div().Class("errormap").Body(
		app.Canvas().ID("canvas-error").Attr("data-testid", "canvas-error").Class("panel").
			Attr("data-ready", ready).Attr("data-max", fmt.Sprintf("%.6f", hi)).
			Attr("data-beats", beat).Attr("data-masked", masked).Attr("data-seq", c.drawSeq).
			Attr("role", "img").Aria("label", "per-patch error of the model's reconstruction; "+legend),
		app.Div().Class("error-legend").Body(
			app.P().Class("legend-title").Text("Masked-patch MSE of the model, per patch"),
			app.Div().Class("legend-bar").Style("background", heatGradientCSS()),
			app.Div().Class("legend-ticks").Body(
				app.Span().Text("0"),
				app.Span().Text(fmt.Sprintf("%.3g", hi/2)),
				app.Span().Attr("data-testid", "error-max").Text(fmt.Sprintf("%.3g", hi)),
			),
			app.P().Class("hint").Attr("data-testid", "error-legend").Text(legend),
		),
	)
}

// notes explain the model and the picture below the panels.
func (c *reconView) notes() []app.UI {
	var notes []app.UI
	if lm := c.model.LM; lm != nil && lm.Fresh {
		notes = append(notes, app.P().Class("note", "warn").Attr("data-testid", "fresh-note").Text(
			fmt.Sprintf("No trained default model is bundled yet: this %s model is freshly initialised (seed %d), so its reconstructions are noise until it is trained (below) or another model is loaded.",
				describeConfig(lm.Config), FreshSeed)))
	}
	if c.result != nil && c.result.NormPix {
		notes = append(notes, app.P().Class("note").Attr("data-testid", "normpix-note").Text(
			"This model was trained with norm_pix_loss: its predictions are shown de-normalised with each patch's own mean and standard deviation, as in the official demo."))
	}
	if pic := c.pic.Pic; pic != nil {
		text := "Image: " + pic.Name
		if pic.Note != "" {
			text += " (" + pic.Note + ")"
		}
		if c.fitNote != "" {
			text += "; " + c.fitNote + " for the model"
		}
		notes = append(notes, app.P().Class("note").Attr("data-testid", "image-note").Text(text+"."))
	}
	return notes
}

// clickTitle says what a click on the masked view does.
func (c *reconView) clickTitle() string {
	if c.attn {
		return "click a patch to see where it attends"
	}
	return "click a patch to mask or unmask it"
}
