package ui

import (
	"errors"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/explore"
	"webmae/engine/recon"
)

// The explorer's computations started by a button: the masking sweep, the
// complete reconstruction and the embeddings.

// sweepConfig is the page's sweep: five ratios, two masks of each kind.
func sweepConfig(seed uint64) explore.SweepConfig {
	sc := explore.DefaultSweep(seed)
	sc.Ratios = []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	sc.Masks = 2
	return sc
}

func (c *explorer) onSweepStart(ctx app.Context, e app.Event) {
	if c.sweepRunning {
		return
	}
	var mask maskState
	ctx.GetState(stateMask, &mask)
	sc := sweepConfig(mask.Seed)
	c.sweepRunning, c.sweepDone, c.sweepTotal = true, 0, len(sc.Ratios)
	started := c.job(func(in explorerInput) (func(), error) {
		pts, err := explore.Sweep(in.lm.Rec, in.img, sc, func(done, total int) {
			c.ctx.Dispatch(func(app.Context) { c.sweepDone = done })
		})
		if err != nil {
			c.ctx.Dispatch(func(app.Context) { c.sweepRunning = false })
			return nil, fmt.Errorf("masking sweep: %w", err)
		}
		return func() { c.sweep, c.sweepRunning = pts, false }, nil
	})
	if !started {
		c.sweepRunning = false
	}
}

func (c *explorer) onComplete(ctx app.Context, e app.Event) {
	var mask maskState
	ctx.GetState(stateMask, &mask)
	ratio, seed := mask.Ratio, mask.Seed
	c.job(func(in explorerInput) (func(), error) {
		res, err := explore.Complete(in.lm.Rec, in.img, ratio, seed)
		if err != nil {
			return nil, fmt.Errorf("complete reconstruction: %w", err)
		}
		rgba, err := recon.ToRGBA(res.Recon, res.H, res.W, in.lm.Norm)
		if err != nil {
			return nil, fmt.Errorf("complete reconstruction: %w", err)
		}
		return func() {
			if err := drawRGBA("canvas-complete", res.W, res.H, rgba); err != nil {
				showUserError(c.ctx, "draw the complete reconstruction", err)
				return
			}
			c.completeMSE = fmt.Sprintf("%.4f", res.MSE)
			c.completePasses = res.Plan.K
			c.completeSeq++
		}, nil
	})
}

// onEmbed embeds the pictures the gallery has loaded (the current one
// first), ranked by similarity to the current one.
func (c *explorer) onEmbed(ctx app.Context, e app.Event) {
	lm, s := c.model.LM, c.session.s
	if lm == nil || s == nil {
		return
	}
	if lm.Tut != nil {
		showError(ctx, "the explorer works with the official MAE family; this model is the tutorial's")
		return
	}
	ctx.NewActionWithValue(actionImages, imagesRequest{Loaded: true, Done: func(images []recon.Pixels, names []string, err error) {
		var embs []explore.Embedding
		var ranked []explore.Similar
		if err == nil {
			err = s.do(func(backend.Kernels) (err error) { embs, ranked, err = c.embedAll(lm, images, names); return err })
		}
		if s.lost(err) {
			return
		}
		c.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				showUserError(ctx, "compute the embeddings", err)
				return
			}
			c.embeddings, c.ranked = embs, ranked
		})
	}})
}

// embedAll embeds every image with the unmasked encoder and ranks them by
// similarity to the first; the caller holds the session's lock.
func (c *explorer) embedAll(lm *loadedModel, images []recon.Pixels, names []string) ([]explore.Embedding, []explore.Similar, error) {
	if len(images) == 0 {
		return nil, nil, errors.New("no image is loaded")
	}
	if c.embedModel != lm.Model {
		enc, err := lm.Model.NewEncoderPass(1)
		if err != nil {
			return nil, nil, err
		}
		c.embedModel, c.encoder = lm.Model, enc
	}
	embs := make([]explore.Embedding, 0, len(images))
	for i, pix := range images {
		img, _, err := prepare(lm, pix)
		if err != nil {
			return nil, nil, fmt.Errorf("embed %s: %w", names[i], err)
		}
		em, err := explore.Embed(c.encoder, names[i], img)
		if err != nil {
			return nil, nil, fmt.Errorf("embed %s: %w", names[i], err)
		}
		embs = append(embs, em)
	}
	ranked, err := explore.Rank(embs, 0)
	return embs, ranked, err
}

func (c *explorer) onEmbeddingDownload(format string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		embs, source := c.embeddings, "webmae"
		if c.model.LM != nil {
			source = c.model.LM.Source
		}
		var data []byte
		var err error
		name, mime := "embeddings.json", "application/json"
		if format == "npy" {
			name, mime = "embeddings.npy", "application/octet-stream"
			data, err = explore.NPY(embs)
		} else {
			data, err = explore.EmbeddingsJSON(source, embs)
		}
		if err == nil {
			err = download(name, mime, data)
		}
		if err != nil {
			showUserError(ctx, "download the embeddings", err)
		}
	}
}
