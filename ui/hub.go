package ui

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/gpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// hubState is the page's part for models by id or URL and the models kept
// in browser storage.
type hubState struct {
	input       string
	dl          *fetchJob // the download in progress, nil when none
	what        string    // the file being downloaded
	done, total int64
	store       modelStore
	index       modelIndex
	note        string // about storage ("" when all is well)
}

// maxDownload bounds a weights file (the loader's own limit).
const maxDownload = model.MaxSafetensorsFileSize

func (p *Page) modelStore() *modelStore {
	if p.hub.store.fs == nil {
		p.hub.store.fs = browserStore{}
	}
	return &p.hub.store
}

// limitsOf returns a WebGPU backend's device limits, nil for the CPU
// backend.
func limitsOf(k backend.Kernels) *gpu.Limits {
	if g, ok := k.(interface{ Info() gpu.Info }); ok {
		l := g.Info().Limits
		return &l
	}
	return nil
}

// loadStartModel is the model the page starts with: the kept model in use
// before the reload when there is one, else the bundled default.
func (p *Page) loadStartModel() (*loadedModel, error) {
	lm, err := p.restoreKept()
	if err != nil {
		p.fail(fmt.Errorf("the model in use before the reload could not be restored, showing the bundled one: %w", err))
	}
	if lm != nil {
		return lm, nil
	}
	return p.loadDefaultModel()
}

// restoreKept loads the last kept model; nil when none is kept.
func (p *Page) restoreKept() (*loadedModel, error) {
	st := p.modelStore()
	ix, err := st.Index()
	p.ctx.Dispatch(func(app.Context) {
		p.hub.index = ix
		if err != nil {
			p.hub.note = fmt.Sprintf("Models cannot be kept in this browser (%v): a reload loses them.", err)
		}
	})
	if err != nil || ix.Last == "" {
		return nil, nil
	}
	i, ok := ix.find(ix.Last)
	if !ok {
		return nil, fmt.Errorf("the index names a missing model %q", ix.Last)
	}
	m := ix.Models[i]
	weights, err := st.Weights(m)
	if err != nil {
		return nil, err
	}
	return p.buildModel(m.Name, m.Origin, weights, m.Config, m.Preprocessor)
}

// buildModel loads weights (with an optional config and preprocessor
// config) on the page's backend after checking that it fits.
func (p *Page) buildModel(name, origin string, weights, cfgJSON, preJSON []byte) (*loadedModel, error) {
	cfg, params, format, norm, err := modelFromBytes(weights, cfgJSON, preJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := memoryCheck(cfg, int64(len(weights)), limitsOf(p.k)); err != nil {
		return nil, fmt.Errorf("%s does not fit: %w", name, err)
	}
	lm, err := newLoadedModel(p.k, cfg, params, norm, fmt.Sprintf("%s (%s names)", name, format))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lm.Origin = origin
	return lm, nil
}

// keep stores a model that was brought in, with its resolved config, as
// the one in use; a storage failure only costs the restore after a reload.
func (p *Page) keep(name, origin string, weights []byte, lm *loadedModel) {
	cfg, err := lm.Config.MarshalHF()
	var pre []byte
	if err == nil {
		pre, err = recon.MarshalPreprocessor(lm.Norm, lm.Config.ImageSize)
	}
	if err == nil {
		_, err = p.modelStore().Put(name, origin, weights, cfg, pre)
	}
	ix, ierr := p.modelStore().Index()
	p.ctx.Dispatch(func(app.Context) {
		p.hub.note = ""
		if err != nil {
			p.hub.note = fmt.Sprintf("%s could not be kept in this browser (%v): a reload loses it.", name, err)
		}
		if ierr == nil {
			p.hub.index = ix
		}
	})
}

// keepUpload keeps a model loaded from files (the weights file among them).
func (p *Page) keepUpload(files []namedBytes, lm *loadedModel) {
	for _, f := range files {
		if hasWeightsExt(f.Name) {
			p.keep(path.Base(f.Name), originFile, f.Data, lm)
			return
		}
	}
}

func (p *Page) onHubInput(ctx app.Context, e app.Event) {
	p.hub.input = ctx.JSSrc().Get("value").String()
}

func (p *Page) onHubLoad(ctx app.Context, e app.Event) {
	if p.hub.dl != nil {
		return
	}
	if p.trainState != trainIdle && p.trainState != trainDone {
		p.errMsg = "stop the training run before loading another model"
		return
	}
	src, err := parseHubInput(p.hub.input)
	if err == nil {
		var u *url.URL
		if u, err = url.Parse(pageURL()); err == nil {
			var hub string
			if hub, err = hubBase(u); err == nil {
				p.errMsg = ""
				p.hub.dl, p.hub.what, p.hub.done, p.hub.total = newFetchJob(), src.String(), 0, 0
				dl := p.hub.dl
				ctx.Async(func() { p.hubLoad(dl, hub, src) })
				return
			}
		}
	}
	p.errMsg = fmt.Sprintf("model not loaded: %v", err)
}

func (p *Page) onHubCancel(ctx app.Context, e app.Event) {
	if p.hub.dl != nil {
		p.hub.dl.cancel()
	}
}

// hubLoad downloads a model by id or URL, loads it, keeps it and shows it;
// on any failure the previous model stays.
func (p *Page) hubLoad(dl *fetchJob, hub string, src hubSource) {
	lm, weights, err := p.hubFetch(dl, hub, src)
	p.ctx.Dispatch(func(ctx app.Context) {
		p.hub.dl = nil
		if err != nil {
			p.errMsg = fmt.Sprintf("%s not loaded, the previous model stays: %v", src, err)
			return
		}
		p.errMsg = ""
		p.setModel(ctx, lm)
	})
	if err == nil {
		p.keep(src.String(), originID, weights, lm)
	}
}

func (p *Page) hubFetch(dl *fetchJob, hub string, src hubSource) (*loadedModel, []byte, error) {
	progress := func(what string) func(done, total int64) {
		last := time.Time{}
		return func(done, total int64) {
			if now := time.Now(); now.Sub(last) > 50*time.Millisecond || done == total {
				last = now
				p.ctx.Dispatch(func(app.Context) { p.hub.what, p.hub.done, p.hub.total = what, done, total })
			}
		}
	}
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
		if err := memoryCheck(cfg, est, limitsOf(p.k)); err != nil {
			return nil, nil, fmt.Errorf("does not fit: %w", err)
		}
		if preJSON, _, err = dl.get(src.fileURL(hub, recon.PreprocessorFileName), 1<<20, nil); err != nil {
			return nil, nil, err
		}
	}
	var weights []byte
	var tried []string
	for _, u := range src.weightURLs(hub) {
		weights, found, err = dl.get(u, maxDownload, progress(path.Base(u)))
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
	lm, err := p.buildModel(src.String(), originID, weights, cfgJSON, preJSON)
	return lm, weights, err
}

func (p *Page) onCacheDelete(key string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		ctx.Async(func() {
			st := p.modelStore()
			err := st.Delete(key)
			ix, ierr := st.Index()
			p.ctx.Dispatch(func(app.Context) {
				if err = errors.Join(err, ierr); err != nil {
					p.errMsg = fmt.Sprintf("delete: %v", err)
				}
				p.hub.index = ix
			})
		})
	}
}

// renderHub draws the hub field, the download progress and the kept
// models.
func (p *Page) renderHub() app.UI {
	h := &p.hub
	busy := h.dl != nil
	rows := make([]app.UI, 0, len(h.index.Models))
	for i, m := range h.index.Models {
		n := strconv.Itoa(i)
		label := m.Name
		if m.Key == h.index.Last {
			label += " (in use)"
		}
		rows = append(rows, app.Li().Attr("data-testid", "cache-item-"+n).Body(
			app.Span().Text(fmt.Sprintf("%s · %s · %s", label, m.Origin, fmtBytes(m.Size))),
			app.Button().Class("link").Attr("data-testid", "cache-delete-"+n).Text("Delete").OnClick(p.onCacheDelete(m.Key)),
		))
	}
	return app.Div().Class("hub").Body(
		app.Div().Class("buttons").Body(
			app.Input().Type("text").Attr("data-testid", "hub-input").Placeholder("facebook/vit-mae-base, org/name@revision or a URL").
				Value(h.input).Disabled(busy).OnInput(p.onHubInput),
			app.Button().Attr("data-testid", "hub-load").Disabled(busy).Text("Load").OnClick(p.onHubLoad),
			app.If(busy, func() app.UI {
				return app.Button().Attr("data-testid", "hub-cancel").Text("Cancel").OnClick(p.onHubCancel)
			}),
		),
		app.If(busy, func() app.UI {
			pr := app.Progress().Attr("data-testid", "model-progress").Attr("value", h.done)
			if h.total > 0 {
				pr = pr.Attr("max", h.total)
			}
			return app.Div().Class("hint").Body(pr, app.Span().Text(fmt.Sprintf(" %s: %s of %s", h.what, fmtBytes(h.done), fmtBytes(h.total))))
		}),
		app.If(h.note != "", func() app.UI { return app.P().Class("hint").Attr("data-testid", "cache-note").Text(h.note) }),
		app.Ul().Class("kept").Attr("data-testid", "cache-list").Body(rows...),
		app.P().Class("hint").Attr("data-testid", "cache-total").Text(fmt.Sprintf("Kept in this browser: %d model(s), %s.", len(h.index.Models), fmtBytes(h.index.TotalSize()))),
	)
}
