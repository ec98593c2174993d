package ui

import (
	"fmt"
	"math"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// statusBar is the header: the brand, the backend and the model.
type statusBar struct {
	app.Compo
	backend backendState
	model   modelState
}

func (c *statusBar) OnInit() { c.backend.Text = "starting…" }

func (c *statusBar) OnMount(ctx app.Context) {
	ctx.ObserveState(stateBackend, &c.backend)
	ctx.ObserveState(stateModel, &c.model)
}

func (c *statusBar) Render() app.UI {
	modelText := "loading…"
	if lm := c.model.LM; lm != nil {
		modelText = fmt.Sprintf("%s · %s params · %s", lm.describe(), fmtParams(lm.paramCount()), lm.Source)
	}
	return app.Header().Class("top").Body(
		app.Div().Class("brand").Body(
			app.Img().Src("/web/icon.svg").Alt("").Width(32).Height(32),
			app.H1().Text("webmae"),
			app.Span().Class("tagline").Text("masked autoencoders that reconstruct and train in your browser"),
		),
		app.Div().Class("status").Body(
			app.Span().Class("chip").Title("compute backend and WebGPU adapter").Attr("data-testid", "backend").Body(
				app.Strong().Text(c.backend.Text),
				app.If(c.backend.Adapter != "", func() app.UI { return app.Span().Class("muted").Text(" · " + c.backend.Adapter) }),
			),
			app.Span().Class("chip").Title("model").Attr("data-testid", "model-status").Text(modelText),
		),
	)
}

// banners shows the error (actionError), what is loading (actionLoading)
// and that a new version of the app was downloaded.
type banners struct {
	app.Compo
	errMsg  string
	loading loadingState
	updated bool
}

func (c *banners) OnInit() { c.loading = loadingState{Text: "Starting the engine", Progress: -1} }

func (c *banners) OnMount(ctx app.Context) {
	ctx.Handle(actionError, func(_ app.Context, a app.Action) { c.errMsg, _ = a.Value.(string) })
	ctx.Handle(actionLoading, func(_ app.Context, a app.Action) { c.loading, _ = a.Value.(loadingState) })
}

// OnAppUpdate offers the new version the service worker fetched; on a
// first visit (no worker controlled the page at load) the worker that
// just took control is this version, not a new one.
func (c *banners) OnAppUpdate(ctx app.Context) {
	c.updated = ctx.AppUpdateAvailable() && controlledAtLoad()
}

// Render keeps each banner inside a fixed container: go-app matches
// children by position, and a shifted sibling would be replaced.
func (c *banners) Render() app.UI {
	return app.Div().Class("banners").Body(
		app.If(c.errMsg != "", func() app.UI {
			return app.Div().Class("banner", "error").Role("alert").Body(
				app.Span().Attr("data-testid", "error").Text(c.errMsg),
				app.Button().Class("link").Text("Dismiss").OnClick(func(ctx app.Context, e app.Event) { c.errMsg = "" }),
			)
		}),
		app.If(c.updated, func() app.UI {
			return app.Div().Class("banner").Attr("data-testid", "update").Body(
				app.Span().Text("A new version of webmae was downloaded: reload to use it (a training run resumes from its last save)."),
				app.Button().Class("link").Text("Reload").OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() }),
			)
		}),
		app.If(c.loading.Text != "", func() app.UI {
			return app.Div().Class("banner", "loading").Attr("data-testid", "loading").Body(
				app.Span().Text(c.loading.Text+"…"),
				progressBar(c.loading.Progress),
			)
		}),
	)
}

// progressBar shows v in [0, 1]; an indeterminate bar when v < 0.
func progressBar(v float64) app.UI {
	if v < 0 {
		return app.Div().Class("bar", "indeterminate").Body(app.Div())
	}
	return app.Div().Class("bar").Aria("valuenow", int(v*100)).Role("progressbar").Body(
		app.Div().Style("width", "%.1f%%", 100*math.Min(v, 1)),
	)
}
