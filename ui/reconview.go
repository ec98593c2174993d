package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/recon"
)

// Canvas ids of the four panels, in recon.Result.Panels order.
var panelIDs = [4]string{"canvas-original", "canvas-masked", "canvas-recon", "canvas-paste"}

// reconView is the reconstruction card: the masking controls, the four
// panels of the current picture (statePicture) with the current model
// (stateModel), and their metrics. actionRecon redraws it; actionSetMask
// sets its mask. It publishes its mask settings (stateMask) and, while the
// explorer's attention view is on (stateAttention), hands a clicked patch
// to the explorer (actionQuery) instead of toggling it.
type reconView struct {
	app.Compo

	ctx     app.Context
	session sessionRef
	model   modelState
	pic     pictureState
	attn    bool // stateAttention

	mask                 maskState
	masked, patches      int
	maskedList           string // the removed patches, "3,7,..."
	drawnMasked, drawSeq int
	result               *recon.Result
	fitNote              string
	busy                 bool
}

func (c *reconView) OnInit() { c.mask = maskState{Ratio: DefaultRatio, Seed: 1} }

func (c *reconView) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.ctx = ctx
	ctx.ObserveState(stateSession, &c.session)
	ctx.ObserveState(stateModel, &c.model).OnChange(func() {
		if c.model.LM != nil {
			c.mask = c.mask.fit(c.model.LM.Config)
		}
		c.result = nil
		c.request()
	})
	ctx.ObserveState(statePicture, &c.pic).OnChange(c.request)
	ctx.ObserveState(stateAttention, &c.attn)
	ctx.Handle(actionRecon, func(app.Context, app.Action) { c.request() })
	ctx.Handle(actionSetMask, func(_ app.Context, a app.Action) {
		if m, ok := a.Value.(maskState); ok {
			c.mask = m
			if c.model.LM != nil {
				c.mask = c.mask.fit(c.model.LM.Config)
			}
			c.request()
		}
	})
}

// request reconstructs the current picture with the current mask (the
// session coalesces requests made while one runs).
func (c *reconView) request() {
	lm, pic, s := c.model.LM, c.pic.Pic, c.session.s
	if lm == nil || pic == nil || s == nil {
		return
	}
	mk, err := lm.masking(c.mask)
	if err != nil {
		showError(c.ctx, err.Error())
		return
	}
	c.masked, c.patches = mk.L-mk.K, mk.L
	c.maskedList = maskedList(mk)
	c.ctx.SetState(stateMask, c.mask)
	c.busy = true
	s.reconstruct(reconJob{lm: lm, pix: pic.Pix, mask: c.mask, done: func(out reconOutput, err error) {
		c.ctx.Dispatch(func(ctx app.Context) { c.show(ctx, out, err) })
	}})
}

func (c *reconView) show(ctx app.Context, out reconOutput, err error) {
	if err != nil {
		showUserError(ctx, "reconstruct the image", err)
		c.busy = false
		return
	}
	for i, id := range panelIDs {
		if err := drawRGBA(id, out.res.W, out.res.H, out.panels[i]); err != nil {
			showError(ctx, err.Error())
			return
		}
	}
	mark("first-recon")
	res := out.res
	c.result = &res
	c.fitNote = out.note
	c.drawnMasked = res.NumMasked()
	c.drawSeq++
	c.busy = false
}

func (c *reconView) onRatio(ctx app.Context, e app.Event) {
	v, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64)
	if err != nil {
		return
	}
	c.mask = c.mask.withRatio(v)
	c.request()
}

func (c *reconView) onReroll(ctx app.Context, e app.Event) {
	c.mask.Seed++
	c.mask.Hand = nil
	c.request()
}

func (c *reconView) onBlock(ctx app.Context, e app.Event) {
	c.mask.Block = ctx.JSSrc().Get("checked").Bool()
	c.mask.Hand = nil
	c.request()
}

// onMaskedClick toggles the patch under the pointer.
func (c *reconView) onMaskedClick(ctx app.Context, e app.Event) {
	lm := c.model.LM
	if lm == nil {
		return
	}
	el := ctx.JSSrc()
	w, h := el.Get("clientWidth").Float(), el.Get("clientHeight").Float()
	if w <= 0 || h <= 0 {
		return
	}
	g := lm.Config.GridSize()
	col := min(int(e.Get("offsetX").Float()/w*float64(g)), g-1)
	row := min(int(e.Get("offsetY").Float()/h*float64(g)), g-1)
	if c.attn {
		ctx.NewActionWithValue(actionQuery, row*g+max(col, 0))
		return
	}
	ms, err := c.mask.toggle(lm.masking, row*g+max(col, 0))
	if err != nil {
		showUserError(ctx, "change that patch", worded(err))
		return
	}
	c.mask = ms
	c.request()
}

func (c *reconView) Render() app.UI {
	names, notes := recon.PanelNames, c.notes()
	fig := func(i int, extra func(app.HTMLCanvas) app.HTMLCanvas) app.UI {
		cv := app.Canvas().ID(panelIDs[i]).Attr("data-testid", panelIDs[i]).Class("panel")
		if extra != nil {
			cv = extra(cv)
		}
		return app.Figure().Body(cv, app.FigCaption().Text(names[i]))
	}
	return app.Section().Class("card", "recon").Body(
		app.Div().Class("panels").DataSet("busy", c.busy).Body(
			fig(0, nil),
			fig(1, func(cv app.HTMLCanvas) app.HTMLCanvas {
				return cv.Attr("data-masked", c.masked).Attr("data-patches", c.patches).
					Attr("data-masked-list", c.maskedList).
					Title(c.clickTitle()).Class("clickable").OnClick(c.onMaskedClick)
			}),
			fig(2, func(cv app.HTMLCanvas) app.HTMLCanvas {
				return cv.Attr("data-masked", c.drawnMasked).Attr("data-seq", c.drawSeq)
			}),
			fig(3, nil),
		),
		c.renderControls(),
		c.renderMetrics(),
		app.Range(notes).Slice(func(i int) app.UI { return notes[i] }),
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
			app.Output().For("mask-ratio").Text(ratioText),
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
	return app.Div().Class("metrics").Body(
		app.Span().Body(app.Text("masked "), app.Strong().Text(fmt.Sprintf("%d / %d", c.masked, c.patches)), app.Text(" patches")),
		app.Span().Body(app.Text("masked-patch MSE "), app.Strong().Attr("data-testid", "recon-mse").Text(mse)),
		app.Span().Body(app.Text("PSNR "), app.Strong().Attr("data-testid", "recon-psnr").Text(psnr)),
		app.Span().Class("hint").Text("Click patches on the masked view to toggle them."),
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
