package ui

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// hubPanel is the Model card's part for models by Hugging Face id or URL
// (hub-input, hub-load, model-progress, hub-cancel) and the models kept in
// browser storage (cache-list, cache-delete-<n>, cache-total). A loaded
// model becomes the page's (stateModel) and is kept (stateKept).
type hubPanel struct {
	app.Compo

	session  sessionRef
	training trainingState
	kept     keptState

	input       string
	dl          *fetchJob // the download in progress, nil when none
	what        string    // the file being downloaded
	done, total int64
}

// maxDownload bounds a weights file (the loader's own limit).
const maxDownload = model.MaxSafetensorsFileSize

func (c *hubPanel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	ctx.ObserveState(stateSession, &c.session)
	ctx.ObserveState(stateTraining, &c.training)
	ctx.ObserveState(stateKept, &c.kept)
}

func (c *hubPanel) onInput(ctx app.Context, e app.Event) {
	c.input = ctx.JSSrc().Get("value").String()
}

func (c *hubPanel) onLoad(ctx app.Context, e app.Event) {
	if c.dl != nil || c.session.s == nil {
		return
	}
	if c.training.Busy {
		showUserError(ctx, "load another model", errTrainingBusy)
		return
	}
	src, hub, err := c.target()
	if err != nil {
		showUserError(ctx, "load that model", worded(err))
		return
	}
	showError(ctx, "")
	c.dl, c.what, c.done, c.total = newFetchJob(), src.String(), 0, 0
	dl, s := c.dl, c.session.s
	ctx.Async(func() { c.load(ctx, s, dl, hub, src) })
}

// target is what the field asks for and the hub to ask (?hub=).
func (c *hubPanel) target() (hubSource, string, error) {
	src, err := parseHubInput(c.input)
	if err != nil {
		return hubSource{}, "", err
	}
	u, err := url.Parse(pageURL())
	if err != nil {
		return hubSource{}, "", err
	}
	hub, err := hubBase(u)
	return src, hub, err
}

func (c *hubPanel) onCancel(ctx app.Context, e app.Event) {
	if c.dl != nil {
		c.dl.cancel()
	}
}

// load downloads a model by id or URL, loads it, shows it and keeps it;
// on any failure the previous model stays.
func (c *hubPanel) load(ctx app.Context, s *session, dl *fetchJob, hub string, src hubSource) {
	lm, weights, err := c.fetch(ctx, s, dl, hub, src)
	ctx.Dispatch(func(ctx app.Context) { c.dl = nil })
	if err != nil {
		showUserError(ctx, fmt.Sprintf("load %s (the previous model stays)", src), worded(err))
		return
	}
	showError(ctx, "")
	ctx.SetState(stateModel, modelState{LM: lm})
	keep(ctx, keptModels, src.String(), originID, weights, lm)
}

// progress reports a file's download progress, at most every 50 ms.
func (c *hubPanel) progress(ctx app.Context, what string) func(done, total int64) {
	last := time.Time{}
	return func(done, total int64) {
		if now := time.Now(); now.Sub(last) > 50*time.Millisecond || done == total {
			last = now
			ctx.Dispatch(func(app.Context) { c.what, c.done, c.total = what, done, total })
		}
	}
}

// fetch downloads the config (refusing a model that cannot fit before its
// weights are fetched), the preprocessor config and the weights, and
// builds the model.
func (c *hubPanel) fetch(ctx app.Context, s *session, dl *fetchJob, hub string, src hubSource) (*loadedModel, []byte, error) {
	cfgURL := src.fileURL(hub, model.ConfigFileName)
	cfgJSON, found, err := dl.get(cfgURL, 1<<20, nil)
	if err != nil {
		return nil, nil, err
	}
	if !found && src.URL == "" {
		return nil, nil, fmt.Errorf("not found: %s answered HTTP 404 (is the id or revision right?)", cfgURL)
	}
	var preJSON []byte
	if found {
		cfg, err := model.ParseConfig(cfgJSON)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", cfgURL, err)
		}
		est := int64(model.NewLayout(cfg).Total) * 4
		if err := s.do(func(k backend.Kernels) error { return memoryCheck(cfg, est, limitsOf(k)) }); err != nil {
			return nil, nil, fmt.Errorf("does not fit: %w", err)
		}
		if preJSON, _, err = dl.get(src.fileURL(hub, recon.PreprocessorFileName), 1<<20, nil); err != nil {
			return nil, nil, err
		}
	}
	var weights []byte
	var tried []string
	for _, u := range src.weightURLs(hub) {
		weights, found, err = dl.get(u, maxDownload, c.progress(ctx, path.Base(u)))
		if err != nil {
			return nil, nil, err
		}
		if found {
			break
		}
		tried = append(tried, u)
	}
	if !found {
		return nil, nil, fmt.Errorf("no weights: HTTP 404 for %v", tried)
	}
	lm, err := buildModel(s, src.String(), originID, weights, cfgJSON, preJSON)
	return lm, weights, err
}

func (c *hubPanel) onDelete(key string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		ctx.Async(func() {
			if err := keptModels.Delete(key); err != nil {
				showUserError(ctx, "delete the kept model", err)
			}
			publishKept(ctx, keptModels, c.kept.Note)
		})
	}
}

// Render draws the hub field, the download progress and the kept models.
func (c *hubPanel) Render() app.UI {
	busy := c.dl != nil
	ix := c.kept.Index
	rows := make([]app.UI, 0, len(ix.Models))
	for i, m := range ix.Models {
		n := strconv.Itoa(i)
		label := m.Name
		if m.Key == ix.Last {
			label += " (in use)"
		}
		rows = append(rows, app.Li().Attr("data-testid", "cache-item-"+n).Body(
			app.Span().Text(fmt.Sprintf("%s · %s · %s", label, m.Origin, fmtBytes(m.Size))),
			app.Button().Class("link").Attr("data-testid", "cache-delete-"+n).Text("Delete").OnClick(c.onDelete(m.Key)),
		))
	}
	return app.Div().Class("hub").Body(
		app.Div().Class("buttons").Body(
			app.Input().Type("text").Attr("data-testid", "hub-input").Aria("label", "Hugging Face model id or weights URL").Placeholder("facebook/vit-mae-base, org/name@revision or a URL").
				Value(c.input).Disabled(busy).OnInput(c.onInput),
			app.Button().Attr("data-testid", "hub-load").Disabled(busy).Text("Load").OnClick(c.onLoad),
			app.If(busy, func() app.UI {
				return app.Button().Attr("data-testid", "hub-cancel").Text("Cancel").OnClick(c.onCancel)
			}),
		),
		app.If(busy, func() app.UI {
			pr := app.Progress().Attr("data-testid", "model-progress").Attr("value", c.done)
			if c.total > 0 {
				pr = pr.Attr("max", c.total)
			}
			return app.Div().Class("hint").Body(pr, app.Span().Text(fmt.Sprintf(" %s: %s of %s", c.what, fmtBytes(c.done), fmtBytes(c.total))))
		}),
		app.If(c.kept.Note != "", func() app.UI {
			return app.P().Class("hint").Attr("data-testid", "cache-note").Text(c.kept.Note)
		}),
		app.Ul().Class("kept").Attr("data-testid", "cache-list").Body(rows...),
		app.P().Class("hint").Attr("data-testid", "cache-total").Text(fmt.Sprintf("Kept in this browser: %d model(s), %s.", len(ix.Models), fmtBytes(ix.TotalSize()))),
	)
}
