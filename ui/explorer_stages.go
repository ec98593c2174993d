package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/explore"
	"webmae/engine/recon"
)

// pipelineStage is one step of the MAE pipeline view, in the order the
// seed tutorial teaches it: its element id is "stage-" + Name.
type pipelineStage struct {
	Name, Title, Sentence string
}

var pipelineStages = []pipelineStage{
	{"patches", "1 · Patchify", "The image is split into a grid of non-overlapping patches; each becomes one token."},
	{"noise", "2 · Noise and argsort", "Each patch draws a random number; sorting them (argsort) shuffles the patches, and the ones with the lowest noise are kept."},
	{"kept", "3 · Kept patches", "Only the first patches of the shuffled order stay visible; the rest are removed before the encoder runs."},
	{"encoder", "4 · Encoder input", "The encoder sees only the visible patches: each one embedded and given its position embedding, after a CLS token (one row per token, one column per feature)."},
	{"decoder", "5 · Decoder sequence", "The encoded tokens are put back in the original order and every removed patch gets the shared mask token (red rows), plus position embeddings."},
	{"prediction", "6 · Prediction", "The decoder predicts the pixels of every patch, visible or not."},
	{"loss", "7 · Per-patch loss", "The loss is the mean squared error on the removed patches only; visible patches (grey) do not count."},
}

func (c *explorer) onStagesToggle(ctx app.Context, e app.Event) {
	c.stages = !c.stages
	if c.stages {
		c.refreshStages()
	}
}

// stageImage is one stage's RGBA bitmap.
type stageImage struct {
	rgba []byte
	w, h int
}

// refreshStages recomputes every stage for the current image and mask.
func (c *explorer) refreshStages() {
	c.job(func(in explorerInput) (func(), error) {
		st, err := explore.Pipeline(in.lm.Rec, in.img, in.mk, in.noise)
		if err != nil {
			return nil, err
		}
		images, text, err := stageImages(in, st)
		if err != nil {
			return nil, err
		}
		return func() {
			for name, im := range images {
				if err := drawRGBA("stage-"+name, im.w, im.h, im.rgba); err != nil {
					showUserError(c.ctx, "draw the encoder's stages", err)
					return
				}
			}
			c.stageText = text
			c.stageSeq++
		}, nil
	})
}

// stageImages draws every stage and says what its numbers are.
func stageImages(in explorerInput, st explore.Stages) (map[string]stageImage, map[string]string, error) {
	cfg, norm := in.lm.Config, in.lm.Norm
	s, g, ps := cfg.ImageSize, cfg.GridSize(), cfg.PatchSize
	base, err := recon.ToRGBA(in.img, s, s, norm)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]stageImage{}
	text := map[string]string{}
	all := make([]int32, st.L)
	for i := range all {
		all[i] = int32(i)
	}
	rgba, w, h := patchMosaic(base, s, g, ps, all, g, 1)
	out["patches"] = stageImage{rgba, w, h}
	text["patches"] = fmt.Sprintf("%d patches of %dx%d pixels x %d channels = %d values each.", st.L, ps, ps, cfg.NumChannels, st.PD)

	rank := make([]float64, st.L)
	for pos, patch := range st.Shuffle {
		rank[patch] = float64(st.L - pos) // bright = kept first
	}
	if st.Noise != nil {
		for i, v := range st.Noise {
			rank[i] = 1 - float64(v)
		}
		text["noise"] = fmt.Sprintf("noise %s…; argsort %s…", fmtFloats(st.Noise[:min(4, st.L)]), fmtInts(st.Shuffle[:min(6, st.L)]))
	} else {
		text["noise"] = fmt.Sprintf("this mask is block-wise or drawn by hand: no noise, the shuffle order is kept-then-removed %s…", fmtInts(st.Shuffle[:min(6, st.L)]))
	}
	out["noise"] = stageImage{patchOverlay(base, s, g, ps, rank, -1), s, s}

	rgba, w, h = patchMosaic(base, s, g, ps, st.Keep, min(st.K, g), 1)
	out["kept"] = stageImage{rgba, w, h}
	text["kept"] = fmt.Sprintf("%d of %d patches kept (ratio %.2f), in the order %s…", st.K, st.L, 1-float64(st.K)/float64(st.L), fmtInts(st.Keep[:min(6, st.K)]))

	// Token rows are repeated so that each map is at least half as tall as
	// it is wide.
	rowH := func(t, d int) int { return max(1, (d+3)/(2*t)) }
	rgba, h = tokenRows(st.EncoderTokens, 1+st.K, st.D, rowH(1+st.K, st.D), nil)
	out["encoder"] = stageImage{rgba, st.D + 3, h}
	text["encoder"] = fmt.Sprintf("%d tokens x %d features.", 1+st.K, st.D)

	mark := append([]bool{false}, st.Masked...)
	rgba, h = tokenRows(st.DecoderTokens, 1+st.L, st.Dd, rowH(1+st.L, st.Dd), mark)
	out["decoder"] = stageImage{rgba, st.Dd + 3, h}
	text["decoder"] = fmt.Sprintf("%d tokens x %d features, %d of them mask tokens.", 1+st.L, st.Dd, st.L-st.K)

	res, err := recon.FromPrediction(cfg, norm, in.img, st.Masked, st.Prediction)
	if err != nil {
		return nil, nil, err
	}
	pred, err := recon.ToRGBA(res.Recon, s, s, norm)
	if err != nil {
		return nil, nil, err
	}
	out["prediction"] = stageImage{pred, s, s}
	text["prediction"] = fmt.Sprintf("%d patches x %d predicted values.", st.L, st.PD)

	loss := make([]float64, st.L)
	for i, m := range st.Masked {
		loss[i] = math.NaN()
		if m {
			loss[i] = st.PatchLoss[i]
		}
	}
	out["loss"] = stageImage{patchOverlay(base, s, g, ps, loss, -1), s, s}
	text["loss"] = fmt.Sprintf("loss %.4f = mean over the %d removed patches.", st.Loss, st.L-st.K)
	return out, text, nil
}

func fmtInts(v []int32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(parts, ", ")
}

func fmtFloats(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return "[" + strings.Join(parts, ", ")
}
