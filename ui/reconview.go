package ui

import (
	"strconv"
	"sync/atomic"

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
	maskBits             []bool // the same, one entry per patch
	drawnMasked, drawSeq int
	result               *recon.Result
	original             []byte // RGBA of the original panel of result, under the error map
	fitNote              string
	failed               bool // the last reconstruction failed (no busy overlay)

	// requested counts the reconstructions asked for (read by the
	// baselines' goroutine); shown is the count of the one drawn last:
	// the panels are busy while they differ.
	requested atomic.Int64
	shown     int64
	compile   compileProgress // the GPU pipelines, for the busy overlay

	baselines  *reconBaselines // of the reconstruction shown, once measured
	errorMap   bool            // the per-patch error map is shown
	focusPatch int             // the patch the keyboard is on (masked view)
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
	ctx.Handle(actionCompileProgress, func(_ app.Context, a app.Action) {
		if p, ok := a.Value.(compileProgress); ok {
			c.compile = p
		}
	})
	ctx.Handle(actionRecon, func(app.Context, app.Action) { c.request() })
	ctx.Defer(c.syncSlider)
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
		showUserError(c.ctx, "apply the mask", err)
		return
	}
	c.masked, c.patches = mk.L-mk.K, mk.L
	c.maskedList = maskedList(mk)
	c.maskBits = recon.Masked(mk, 0)
	c.ctx.SetState(stateMask, c.mask)
	c.ctx.Defer(c.syncSlider)
	gen := c.requested.Add(1)
	c.failed = false
	job := reconJob{lm: lm, pix: pic.Pix, mask: c.mask, done: func(out reconOutput, err error) {
		c.ctx.Dispatch(func(ctx app.Context) { c.show(ctx, out, err, gen) })
	}}
	c.ctx.Async(func() {
		// The busy overlay first: a CPU reconstruction holds the page's
		// thread. Only the newest request goes on (one per frame).
		awaitPaint()
		if c.requested.Load() == gen {
			s.reconstruct(job)
		}
	})
}

// busy reports whether a reconstruction is being computed or the first
// one is still to come.
func (c *reconView) busy() bool {
	return !c.failed && (c.result == nil || c.shown != c.requested.Load())
}

func (c *reconView) show(ctx app.Context, out reconOutput, err error, gen int64) {
	c.shown = max(c.shown, gen)
	if err != nil {
		showUserError(ctx, "reconstruct the image", err)
		c.failed = true
		return
	}
	for i, id := range panelIDs {
		if err := drawRGBA(id, out.res.W, out.res.H, out.panels[i]); err != nil {
			showUserError(ctx, "draw the panels", err)
			c.failed = true
			return
		}
	}
	mark("first-recon")
	res := out.res
	c.result = &res
	c.original = out.panels[0]
	c.fitNote = out.note
	c.drawnMasked = res.NumMasked()
	c.drawSeq++
	c.startBaselines(ctx, res, out.job.lm.Norm, c.drawSeq, gen)
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
	col := max(min(int(e.Get("offsetX").Float()/w*float64(g)), g-1), 0)
	row := max(min(int(e.Get("offsetY").Float()/h*float64(g)), g-1), 0)
	c.focusPatch = row*g + col
	c.patchAction(ctx, c.focusPatch)
}

// patchAction is a click (or space) on patch i of the masked view: the
// attention query in the explorer's attention view, else a toggle.
func (c *reconView) patchAction(ctx app.Context, i int) {
	if c.attn {
		ctx.NewActionWithValue(actionQuery, i)
		return
	}
	ms, err := c.mask.toggle(c.model.LM.masking, i)
	if err != nil {
		showUserError(ctx, "change that patch", worded(err))
		return
	}
	c.mask = ms
	c.request()
}

// syncSlider sets the slider's value property once go-app has rendered
// it: go-app sets an element's attributes in map order, so at creation
// the value may be set before min, max and step and be clamped or
// rounded to the defaults (0 to 100, step 1), leaving the thumb away from
// the value shown.
func (c *reconView) syncSlider(app.Context) {
	el := app.Window().GetElementByID("mask-ratio")
	if el.Truthy() {
		el.Set("value", strconv.FormatFloat(c.mask.Ratio, 'f', -1, 64))
	}
}
