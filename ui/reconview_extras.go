package ui

import (
	"errors"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/recon"
)

// yieldSlice is how long the baselines compute before letting the page
// handle its events (Go's wasm runs on the page's only thread).
const yieldSlice = 12 * time.Millisecond

// startBaselines measures the baselines of res (drawn as drawSeq, asked
// for as request gen) on a goroutine that yields to the page every
// yieldSlice and stops once a newer reconstruction is asked for.
func (c *reconView) startBaselines(ctx app.Context, res recon.Result, n recon.Norm, drawSeq int, gen int64) {
	ctx.Async(func() {
		last := time.Now()
		yield := func() error {
			if c.requested.Load() != gen {
				return errSuperseded
			}
			if time.Since(last) >= yieldSlice {
				time.Sleep(time.Millisecond)
				last = time.Now()
			}
			return nil
		}
		b, err := computeBaselines(res, n, yield)
		ctx.Dispatch(func(ctx app.Context) {
			switch {
			case errors.Is(err, errSuperseded) || c.drawSeq != drawSeq:
				return
			case err != nil:
				showUserError(ctx, "compute this mask's baselines", err)
				return
			}
			b.Seq = drawSeq
			c.baselines = &b
			ctx.Defer(c.drawErrorMap)
		})
	})
}

// drawErrorMap draws the error map of the reconstruction shown, when it
// is on and its errors are measured.
func (c *reconView) drawErrorMap(ctx app.Context) {
	b, r := c.baselines, c.result
	if !c.errorMap || r == nil || b == nil || b.Seq != c.drawSeq {
		return
	}
	beats, _ := beatsInterpolation(b.ModelPatch, b.IDWPatch)
	rgba, err := errorMapRGBA(c.original, r.W, r.W/r.P, r.P, b.ModelPatch, errorScaleMax(b.ModelPatch), beats)
	if err == nil {
		err = drawRGBA("canvas-error", r.W, r.H, rgba)
	}
	if err != nil {
		showUserError(ctx, "draw the error map", err)
	}
}

func (c *reconView) onErrorMap(ctx app.Context, e app.Event) {
	c.errorMap = ctx.JSSrc().Get("checked").Bool()
	ctx.Defer(c.drawErrorMap)
}

// onSave downloads the four panels as one PNG at display size.
func (c *reconView) onSave(ctx app.Context, e app.Event) {
	r, pic := c.result, c.pic.Pic
	if r == nil || pic == nil {
		return
	}
	ratio := c.mask.Ratio
	if c.mask.Hand != nil {
		ratio = float64(c.drawnMasked) / float64(max(len(r.Mask), 1))
	}
	png, _, _, err := panelsPNG(panelIDs[:], panelsGap)
	if err == nil {
		err = download(panelsFileName(pic.Key, pic.Name, ratio, r.MSE), "image/png", png)
	}
	if err != nil {
		showUserError(ctx, "save the panels", err)
	}
}

// onMaskedKey moves between the masked view's patches and toggles them
// (patchKey).
func (c *reconView) onMaskedKey(ctx app.Context, e app.Event) {
	lm := c.model.LM
	if lm == nil {
		return
	}
	next, toggle, ok := patchKey(e.Get("key").String(), c.focusPatch, lm.Config.GridSize())
	if !ok {
		return
	}
	e.PreventDefault()
	c.focusPatch = next
	if toggle {
		c.patchAction(ctx, next)
	}
}
