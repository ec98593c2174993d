package ui

import (
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// originText says where a model came from, for the summary.
func originText(origin string) string {
	switch origin {
	case originBundled:
		return "bundled"
	case originFile:
		return "file"
	case originID:
		return "id"
	case originInitialised:
		return "initialised"
	}
	return "trained in this page"
}

// modelSummary is the `model-summary` list: source, image and patch size,
// widths and parameter count, with data-image-size and data-params (the
// tutorial's family: its own facts, tutorial.go).
func modelSummary(lm *loadedModel) app.UI {
	dl := app.Dl().Class("facts").Attr("data-testid", "model-summary")
	if lm == nil {
		return dl
	}
	c := lm.Config
	dl = dl.Attr("data-image-size", strconv.Itoa(c.ImageSize)).Attr("data-params", strconv.Itoa(lm.paramCount())).
		Attr("data-origin", originText(lm.Origin))
	kv := func(k, v string) app.UI { return app.Div().Body(app.Dt().Text(k), app.Dd().Text(v)) }
	if lm.Tut != nil {
		return dl.Body(tutorialRows(lm, kv)...)
	}
	return dl.Body(
		kv("family", "the official MAE (facebookresearch/mae, Hugging Face ViTMAE): CLS token, fixed sin-cos positions"),
		kv("source", fmt.Sprintf("%s: %s", originText(lm.Origin), lm.Source)),
		kv("input", fmt.Sprintf("%d×%d, %d channel(s), patch %d (%d patches)", c.ImageSize, c.ImageSize, c.NumChannels, c.PatchSize, c.NumPatches())),
		kv("encoder", fmt.Sprintf("%d wide × %d layers, %d heads, MLP %d", c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize)),
		kv("decoder", fmt.Sprintf("%d wide × %d layers, %d heads, MLP %d", c.DecoderHiddenSize, c.DecoderNumHiddenLayers, c.DecoderNumAttentionHeads, c.DecoderIntermediateSize)),
		kv("parameters", fmtParams(lm.paramCount())),
		kv("target", map[bool]string{true: "per-patch normalised pixels (norm_pix_loss)", false: "normalised pixels"}[c.NormPixLoss]),
	)
}
