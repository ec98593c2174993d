package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Render draws the explorer card. Its canvases are always in the
// tree (go-app matches children by position; a canvas replaced would lose
// its pixels); closed views are hidden instead.
func (c *explorer) Render() app.UI {
	return app.Section().Class("card", "explorer").Body(
		app.H2().Text("Explore what the model does"),
		app.Div().Class("explore-grid").Body(
			c.renderAttention(),
			c.renderSweep(),
			c.renderComplete(),
			c.renderEmbeddings(),
		),
		c.renderStages(),
	)
}

func (c *explorer) renderAttention() app.UI {
	var layers, heads []app.UI
	encHeads, decHeads := 1, 1
	if c.model.LM != nil {
		cfg := c.model.LM.Config
		encHeads, decHeads = cfg.NumAttentionHeads, cfg.DecoderNumAttentionHeads
		for i := cfg.DecoderNumHiddenLayers - 1; i >= 0; i-- {
			v := fmt.Sprintf("dec-%d", i)
			sel := c.layer == v || (c.layer == "" && i == cfg.DecoderNumHiddenLayers-1)
			layers = append(layers, app.Option().Value(v).Selected(sel).Text(fmt.Sprintf("decoder layer %d", i+1)))
		}
		for i := cfg.NumHiddenLayers - 1; i >= 0; i-- {
			v := fmt.Sprintf("enc-%d", i)
			layers = append(layers, app.Option().Value(v).Selected(c.layer == v).Text(fmt.Sprintf("encoder layer %d", i+1)))
		}
	}
	n := decHeads
	if strings.HasPrefix(c.layer, "enc-") {
		n = encHeads
	}
	heads = append(heads, app.Option().Value("0").Selected(c.head == 0).Text("mean of heads"))
	for h := 1; h <= n; h++ {
		heads = append(heads, app.Option().Value(strconv.Itoa(h)).Selected(c.head == h).Text(fmt.Sprintf("head %d", h)))
	}
	query := ""
	if c.hasQuery {
		query = strconv.Itoa(c.query)
	}
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Attention"),
		app.Label().Class("check").Body(
			app.Input().Type("checkbox").ID("explore-attention").Attr("data-testid", "explore-attention").
				Checked(c.attention).OnChange(c.onAttentionToggle),
			app.Text(" explore attention: click a patch on the masked view"),
		),
		app.Div().Class("explore-controls").Body(
			app.Select().Attr("data-testid", "attention-layer").Title("layer").Disabled(!c.attention).
				OnChange(c.onAttentionSelect("layer")).Body(layers...),
			app.Select().Attr("data-testid", "attention-head").Title("head").Disabled(!c.attention || c.rollout).
				OnChange(c.onAttentionSelect("head")).Body(heads...),
			app.Label().Class("check").Body(
				app.Input().Type("checkbox").Attr("data-testid", "attention-rollout").Checked(c.rollout).
					Disabled(!c.attention).OnChange(c.onAttentionSelect("rollout")),
				app.Text(" rollout"),
			),
		),
		app.Canvas().ID("canvas-attention").Attr("data-testid", "canvas-attention").Class("panel").
			Attr("data-query", query).Attr("data-seq", c.attnDrawn),
		app.P().Class("hint").Attr("data-testid", "attention-note").Text(firstNonEmpty(c.attnNote,
			"The decoder attends to every token: CLS, visible patches and mask tokens; the encoder only to the visible patches. Rollout multiplies the head-averaged maps of the layers, counting the residual path.")),
	)
}

func (c *explorer) renderSweep() app.UI {
	label := "Run the masking sweep"
	if c.sweepRunning {
		label = fmt.Sprintf("Sweeping… %d / %d ratios", c.sweepDone, c.sweepTotal)
	}
	return app.Div().Class("explore-view", "wide").Body(
		app.H3().Text("Masking sweep"),
		app.Button().Attr("data-testid", "sweep-start").Disabled(c.sweepRunning || c.model.LM == nil).Text(label).OnClick(c.onSweepStart),
		app.Div().Class("chartbox").Body(app.Raw(sweepChartSVG(c.sweep))),
		app.P().Class("hint", "legend").Body(
			app.Span().Class("key", "s-model").Text("model"), app.Span().Class("key", "s-mean").Text("mean fill"),
			app.Span().Class("key", "s-idw").Text("inverse distance"),
			app.Text(" · solid: random masks, dashed: block-wise; masked-patch MSE of this image at ratios 0.1–0.9, two masks each (the paper's masking-ratio figure, on your image)."),
		),
	)
}

func (c *explorer) renderComplete() app.UI {
	mse := "–"
	if c.completeMSE != "" {
		mse = c.completeMSE
	}
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Complete reconstruction"),
		app.Button().Attr("data-testid", "complete-recon").Disabled(c.model.LM == nil).Text("Reconstruct every patch").OnClick(c.onComplete),
		app.Canvas().ID("canvas-complete").Attr("data-testid", "canvas-complete").Class("panel").
			Attr("data-seq", c.completeSeq).Attr("data-passes", c.completePasses),
		app.P().Class("metrics").Body(app.Text("MSE over every patch "), app.Strong().Attr("data-testid", "complete-mse").Text(mse)),
		app.P().Class("hint").Text(completeHint(c.completePasses)),
	)
}

func completeHint(passes int) string {
	s := "Complementary masks at the current ratio: the patches are split into groups and each pass hides some groups, so every patch is predicted exactly once, by a pass that cannot see it."
	if passes > 0 {
		s += fmt.Sprintf(" This image took %d passes.", passes)
	}
	return s
}

func (c *explorer) renderEmbeddings() app.UI {
	var items []app.UI
	for _, r := range c.ranked {
		items = append(items, app.Li().Attr("data-name", r.Name).Body(
			app.Span().Text(r.Name),
			app.Span().Class("muted").Text(fmt.Sprintf(" mean-pooled %.3f · CLS %.3f", r.Mean, r.CLS)),
		))
	}
	none := len(c.embeddings) == 0
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Embeddings"),
		app.Div().Class("buttons").Body(
			app.Button().Attr("data-testid", "embedding-compute").Disabled(c.model.LM == nil).Text("Embed the loaded images").OnClick(c.onEmbed),
			app.Button().Attr("data-testid", "embedding-download").Disabled(none).Text("JSON").OnClick(c.onEmbeddingDownload("json")),
			app.Button().Attr("data-testid", "embedding-download-npy").Disabled(none).Text(".npy").OnClick(c.onEmbeddingDownload("npy")),
		),
		app.Ol().Class("ranking").Attr("data-testid", "embedding-rank").Attr("data-count", len(c.ranked)).Body(items...),
		app.P().Class("hint").Text("The encoder on every patch (no masking): CLS token and mean of the patch tokens after the final layer norm, images ordered by cosine similarity of the mean-pooled embedding to the current one. The .npy holds (images, 2, features): CLS then mean."),
	)
}

func (c *explorer) renderStages() app.UI {
	label := "Show the pipeline step by step"
	if c.stages {
		label = "Hide the pipeline"
	}
	figs := make([]app.UI, len(pipelineStages))
	for i, s := range pipelineStages {
		figs[i] = app.Figure().Class("stage").Body(
			app.Canvas().ID("stage-"+s.Name).Attr("data-testid", "stage-"+s.Name).Class("panel", "stage-canvas"),
			app.FigCaption().Body(
				app.Strong().Text(s.Title),
				app.Span().Text(" "+s.Sentence),
				app.Span().Class("muted").Attr("data-testid", "stage-text-"+s.Name).Text(" "+c.stageText[s.Name]),
			),
		)
	}
	return app.Div().Class("pipeline").Body(
		app.Button().Attr("data-testid", "pipeline-toggle").Disabled(c.model.LM == nil).Text(label).OnClick(c.onStagesToggle),
		app.Div().Class("stages").Attr("data-testid", "stages").Attr("data-seq", c.stageSeq).Hidden(!c.stages).Body(figs...),
	)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
