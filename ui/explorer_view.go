package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// renderExplorer draws the explorer card. Its canvases are always in the
// tree (go-app matches children by position; a canvas replaced would lose
// its pixels); closed views are hidden instead.
func (p *Page) renderExplorer() app.UI {
	return app.Section().Class("card", "explorer").Body(
		app.H2().Text("Explore what the model does"),
		app.Div().Class("explore-grid").Body(
			p.renderAttention(),
			p.renderSweep(),
			p.renderComplete(),
			p.renderEmbeddings(),
		),
		p.renderStages(),
	)
}

func (p *Page) renderAttention() app.UI {
	var layers, heads []app.UI
	encHeads, decHeads := 1, 1
	if p.lm != nil {
		c := p.lm.Config
		encHeads, decHeads = c.NumAttentionHeads, c.DecoderNumAttentionHeads
		for i := c.DecoderNumHiddenLayers - 1; i >= 0; i-- {
			v := fmt.Sprintf("dec-%d", i)
			sel := p.ex.layer == v || (p.ex.layer == "" && i == c.DecoderNumHiddenLayers-1)
			layers = append(layers, app.Option().Value(v).Selected(sel).Text(fmt.Sprintf("decoder layer %d", i+1)))
		}
		for i := c.NumHiddenLayers - 1; i >= 0; i-- {
			v := fmt.Sprintf("enc-%d", i)
			layers = append(layers, app.Option().Value(v).Selected(p.ex.layer == v).Text(fmt.Sprintf("encoder layer %d", i+1)))
		}
	}
	n := decHeads
	if strings.HasPrefix(p.ex.layer, "enc-") {
		n = encHeads
	}
	heads = append(heads, app.Option().Value("0").Selected(p.ex.head == 0).Text("mean of heads"))
	for h := 1; h <= n; h++ {
		heads = append(heads, app.Option().Value(strconv.Itoa(h)).Selected(p.ex.head == h).Text(fmt.Sprintf("head %d", h)))
	}
	query := ""
	if p.ex.hasQuery {
		query = strconv.Itoa(p.ex.query)
	}
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Attention"),
		app.Label().Class("check").Body(
			app.Input().Type("checkbox").ID("explore-attention").Attr("data-testid", "explore-attention").
				Checked(p.ex.attention).OnChange(p.onAttentionToggle),
			app.Text(" explore attention: click a patch on the masked view"),
		),
		app.Div().Class("explore-controls").Body(
			app.Select().Attr("data-testid", "attention-layer").Title("layer").Disabled(!p.ex.attention).
				OnChange(p.onAttentionSelect("layer")).Body(layers...),
			app.Select().Attr("data-testid", "attention-head").Title("head").Disabled(!p.ex.attention || p.ex.rollout).
				OnChange(p.onAttentionSelect("head")).Body(heads...),
			app.Label().Class("check").Body(
				app.Input().Type("checkbox").Attr("data-testid", "attention-rollout").Checked(p.ex.rollout).
					Disabled(!p.ex.attention).OnChange(p.onAttentionSelect("rollout")),
				app.Text(" rollout"),
			),
		),
		app.Canvas().ID("canvas-attention").Attr("data-testid", "canvas-attention").Class("panel").
			Attr("data-query", query).Attr("data-seq", p.ex.attnDrawn),
		app.P().Class("hint").Attr("data-testid", "attention-note").Text(firstNonEmpty(p.ex.attnNote,
			"The decoder attends to every token: CLS, visible patches and mask tokens; the encoder only to the visible patches. Rollout multiplies the head-averaged maps of the layers, counting the residual path.")),
	)
}

func (p *Page) renderSweep() app.UI {
	label := "Run the masking sweep"
	if p.ex.sweepRunning {
		label = fmt.Sprintf("Sweeping… %d / %d ratios", p.ex.sweepDone, p.ex.sweepTotal)
	}
	return app.Div().Class("explore-view", "wide").Body(
		app.H3().Text("Masking sweep"),
		app.Button().Attr("data-testid", "sweep-start").Disabled(p.ex.sweepRunning || p.lm == nil).Text(label).OnClick(p.onSweepStart),
		app.Div().Class("chartbox").Body(app.Raw(sweepChartSVG(p.ex.sweep))),
		app.P().Class("hint", "legend").Body(
			app.Span().Class("key", "s-model").Text("model"), app.Span().Class("key", "s-mean").Text("mean fill"),
			app.Span().Class("key", "s-idw").Text("inverse distance"),
			app.Text(" · solid: random masks, dashed: block-wise; masked-patch MSE of this image at ratios 0.1–0.9, two masks each (the paper's masking-ratio figure, on your image)."),
		),
	)
}

func (p *Page) renderComplete() app.UI {
	mse := "–"
	if p.ex.completeMSE != "" {
		mse = p.ex.completeMSE
	}
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Complete reconstruction"),
		app.Button().Attr("data-testid", "complete-recon").Disabled(p.lm == nil).Text("Reconstruct every patch").OnClick(p.onComplete),
		app.Canvas().ID("canvas-complete").Attr("data-testid", "canvas-complete").Class("panel").
			Attr("data-seq", p.ex.completeSeq).Attr("data-passes", p.ex.completePasses),
		app.P().Class("metrics").Body(app.Text("MSE over every patch "), app.Strong().Attr("data-testid", "complete-mse").Text(mse)),
		app.P().Class("hint").Text(completeHint(p.ex.completePasses)),
	)
}

func completeHint(passes int) string {
	s := "Complementary masks at the current ratio: the patches are split into groups and each pass hides some groups, so every patch is predicted exactly once, by a pass that cannot see it."
	if passes > 0 {
		s += fmt.Sprintf(" This image took %d passes.", passes)
	}
	return s
}

func (p *Page) renderEmbeddings() app.UI {
	var items []app.UI
	for _, r := range p.ex.ranked {
		items = append(items, app.Li().Attr("data-name", r.Name).Body(
			app.Span().Text(r.Name),
			app.Span().Class("muted").Text(fmt.Sprintf(" mean-pooled %.3f · CLS %.3f", r.Mean, r.CLS)),
		))
	}
	none := len(p.ex.embeddings) == 0
	return app.Div().Class("explore-view").Body(
		app.H3().Text("Embeddings"),
		app.Div().Class("buttons").Body(
			app.Button().Attr("data-testid", "embedding-compute").Disabled(p.lm == nil).Text("Embed the loaded images").OnClick(p.onEmbed),
			app.Button().Attr("data-testid", "embedding-download").Disabled(none).Text("JSON").OnClick(p.onEmbeddingDownload("json")),
			app.Button().Attr("data-testid", "embedding-download-npy").Disabled(none).Text(".npy").OnClick(p.onEmbeddingDownload("npy")),
		),
		app.Ol().Class("ranking").Attr("data-testid", "embedding-rank").Attr("data-count", len(p.ex.ranked)).Body(items...),
		app.P().Class("hint").Text("The encoder on every patch (no masking): CLS token and mean of the patch tokens after the final layer norm, images ordered by cosine similarity of the mean-pooled embedding to the current one. The .npy holds (images, 2, features): CLS then mean."),
	)
}

func (p *Page) renderStages() app.UI {
	label := "Show the pipeline step by step"
	if p.ex.stages {
		label = "Hide the pipeline"
	}
	figs := make([]app.UI, len(pipelineStages))
	for i, s := range pipelineStages {
		figs[i] = app.Figure().Class("stage").Body(
			app.Canvas().ID("stage-"+s.Name).Attr("data-testid", "stage-"+s.Name).Class("panel", "stage-canvas"),
			app.FigCaption().Body(
				app.Strong().Text(s.Title),
				app.Span().Text(" "+s.Sentence),
				app.Span().Class("muted").Attr("data-testid", "stage-text-"+s.Name).Text(" "+p.ex.stageText[s.Name]),
			),
		)
	}
	return app.Div().Class("pipeline").Body(
		app.Button().Attr("data-testid", "pipeline-toggle").Disabled(p.lm == nil).Text(label).OnClick(p.onStagesToggle),
		app.Div().Class("stages").Attr("data-testid", "stages").Attr("data-seq", p.ex.stageSeq).Hidden(!p.ex.stages).Body(figs...),
	)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
