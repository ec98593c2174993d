package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/explore"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// explorer is the state of the MAE explorer views under the demo: the
// attention maps of a query patch, the masking sweep, the complete
// reconstruction, the embeddings and the pipeline stages. Every number
// comes from engine/explore on the page's backend.
type explorer struct {
	maskedList string // the current mask's removed patches, "3,7,..."

	attention bool // clicks on the masked view pick a query patch
	hasQuery  bool
	query     int    // the query patch, when hasQuery
	layer     string // "dec-N" or "enc-N"; "" for the last decoder layer
	head      int    // 1 + a head; 0 for the mean of the heads
	rollout   bool
	attn      *explore.Attention
	attnBase  []byte // RGBA of the image the maps were computed on
	attnSize  int
	attnNote  string
	attnSeq   int // computations started; a result of an older one is dropped
	attnDrawn int // maps drawn

	sweepRunning bool
	sweepDone    int
	sweepTotal   int
	sweep        []explore.Point

	completeMSE    string
	completePasses int
	completeSeq    int

	embeddings []explore.Embedding
	ranked     []explore.Similar
	embedModel *mae.Model
	encoder    *mae.EncoderPass

	stages    bool // the pipeline view is open
	stageSeq  int
	stageText map[string]string
}

// explorerInput is what every explorer computation starts from: the
// model, the current image fitted and normalised, and the current mask.
type explorerInput struct {
	lm    *loadedModel
	img   []float32
	mk    model.Masking
	noise []float32 // of a random mask; nil for block-wise and hand-made
}

func (p *Page) explorerInput() (explorerInput, error) {
	pic := p.picture(p.current)
	if p.lm == nil || pic == nil {
		return explorerInput{}, errors.New("no image or model yet")
	}
	img, _, err := prepare(p.lm, pic.Pix)
	if err != nil {
		return explorerInput{}, err
	}
	mk, err := p.mask.masking(p.lm.Config)
	if err != nil {
		return explorerInput{}, err
	}
	in := explorerInput{lm: p.lm, img: img, mk: mk}
	if p.mask.Hand == nil && !p.mask.Block {
		in.noise = recon.MaskNoise(mk.L, p.mask.Seed)
	}
	return in, nil
}

// afterMask is called with every new mask of the demo: the masked list,
// the URL and the views that depend on the mask follow it.
func (p *Page) afterMask(mk model.Masking) {
	var ids []string
	for i, m := range recon.Masked(mk, 0) {
		if m {
			ids = append(ids, strconv.Itoa(i))
		}
	}
	p.ex.maskedList = strings.Join(ids, ",")
	p.writeLink()
	p.refreshAttention()
	if p.ex.stages {
		p.refreshStages()
	}
}

// explorerJob runs fn on the engine (holding the backend lock) with the
// current input, then done on the page; an error is shown.
func (p *Page) explorerJob(fn func(in explorerInput) (func(), error)) {
	in, err := p.explorerInput()
	if err != nil {
		p.errMsg = err.Error()
		return
	}
	p.ctx.Async(func() {
		p.mu.Lock()
		done, err := fn(in)
		p.mu.Unlock()
		if isDeviceLost(err) {
			p.onDeviceLost(err)
			return
		}
		p.ctx.Dispatch(func(app.Context) {
			if err != nil {
				p.errMsg = err.Error()
				return
			}
			done()
		})
	})
}

// --- attention

func (p *Page) onAttentionToggle(ctx app.Context, e app.Event) {
	p.ex.attention = ctx.JSSrc().Get("checked").Bool()
	if p.ex.attention && !p.ex.hasQuery && p.lm != nil {
		// Start with the first removed patch: where the decoder looked to
		// fill it in.
		mk, err := p.mask.masking(p.lm.Config)
		if err == nil {
			for i, m := range recon.Masked(mk, 0) {
				if m {
					p.ex.query, p.ex.hasQuery = i, true
					break
				}
			}
		}
	}
	p.refreshAttention()
}

// setQuery makes patch i the attention query.
func (p *Page) setQuery(i int) {
	p.ex.query, p.ex.hasQuery = i, true
	if p.ex.attn != nil {
		p.drawAttention()
		return
	}
	p.refreshAttention()
}

// refreshAttention recomputes the attention of the current image and mask.
func (p *Page) refreshAttention() {
	if !p.ex.attention || !p.ex.hasQuery {
		return
	}
	p.ex.attnSeq++
	seq := p.ex.attnSeq
	p.explorerJob(func(in explorerInput) (func(), error) {
		a, res, err := explore.Collect(in.lm.Rec, in.img, in.mk)
		if err != nil {
			return nil, err
		}
		base, err := recon.ToRGBA(res.Original, res.H, res.W, in.lm.Norm)
		if err != nil {
			return nil, err
		}
		return func() {
			if seq != p.ex.attnSeq {
				return
			}
			p.ex.attn, p.ex.attnBase, p.ex.attnSize = a, base, res.W
			p.drawAttention()
		}, nil
	})
}

// attentionView is the selected layer, head and rollout.
func (p *Page) attentionView() explore.View {
	v := explore.View{Stack: mae.Decoder, Head: p.ex.head - 1, Rollout: p.ex.rollout}
	if a := p.ex.attn; a != nil {
		v.Layer = len(a.Dec.Probs) - 1
	}
	if kind, n, ok := strings.Cut(p.ex.layer, "-"); ok {
		if i, err := strconv.Atoi(n); err == nil {
			v.Layer = i
			if kind == "enc" {
				v.Stack = mae.Encoder
			}
		}
	}
	st := p.ex.attn.Dec
	if v.Stack == mae.Encoder {
		st = p.ex.attn.Enc
	}
	if v.Head >= st.Heads || v.Layer >= len(st.Probs) {
		v.Head = explore.AllHeads
		v.Layer = len(st.Probs) - 1
	}
	return v
}

// drawAttention draws the cached attention of the query patch.
func (p *Page) drawAttention() {
	a := p.ex.attn
	if a == nil || p.lm == nil || !p.ex.hasQuery || p.ex.query >= a.L {
		return
	}
	v := p.attentionView()
	pm, err := a.Map(v, p.ex.query)
	if err != nil {
		p.ex.attnNote = err.Error() + "; choose a decoder layer or a visible patch."
		return
	}
	g := p.lm.Config.GridSize()
	rgba := patchOverlay(p.ex.attnBase, p.ex.attnSize, g, p.ex.attnSize/g, pm.Weights, p.ex.query)
	if err := drawRGBA("canvas-attention", p.ex.attnSize, p.ex.attnSize, rgba); err != nil {
		p.errMsg = err.Error()
		return
	}
	kind := "visible"
	if a.Masked[p.ex.query] {
		kind = "masked (a mask token in the decoder)"
	}
	var what string
	switch {
	case v.Rollout:
		what = fmt.Sprintf("rollout through layer %d", v.Layer+1)
	case v.Head == explore.AllHeads:
		what = fmt.Sprintf("layer %d, mean of the heads", v.Layer+1)
	default:
		what = fmt.Sprintf("layer %d, head %d", v.Layer+1, v.Head+1)
	}
	best, bestW := -1, -1.0
	for i, w := range pm.Weights {
		if i != p.ex.query && !math.IsNaN(w) && w > bestW {
			best, bestW = i, w
		}
	}
	p.ex.attnNote = fmt.Sprintf("Patch %d, %s: where the %s looked, %s. Weight on CLS %.3f; strongest other patch %d (%.3f).",
		p.ex.query, kind, v.Stack, what, pm.CLS, best, bestW)
	p.ex.attnDrawn++
}

func (p *Page) onAttentionSelect(field string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		el := ctx.JSSrc()
		switch field {
		case "layer":
			p.ex.layer = el.Get("value").String()
			p.ex.head = 0
		case "head":
			h, err := strconv.Atoi(el.Get("value").String())
			if err != nil || h < 0 {
				h = 0
			}
			p.ex.head = h
		case "rollout":
			p.ex.rollout = el.Get("checked").Bool()
		}
		p.drawAttention()
	}
}

// --- sweep and complete reconstruction

// sweepConfig is the page's sweep: five ratios, two masks of each kind.
func sweepConfig(seed uint64) explore.SweepConfig {
	sc := explore.DefaultSweep(seed)
	sc.Ratios = []float64{0.1, 0.3, 0.5, 0.7, 0.9}
	sc.Masks = 2
	return sc
}

func (p *Page) onSweepStart(ctx app.Context, e app.Event) {
	if p.ex.sweepRunning {
		return
	}
	sc := sweepConfig(p.mask.Seed)
	p.ex.sweepRunning, p.ex.sweepDone, p.ex.sweepTotal = true, 0, len(sc.Ratios)
	p.explorerJob(func(in explorerInput) (func(), error) {
		pts, err := explore.Sweep(in.lm.Rec, in.img, sc, func(done, total int) {
			p.ctx.Dispatch(func(app.Context) { p.ex.sweepDone = done })
		})
		if err != nil {
			p.ctx.Dispatch(func(app.Context) { p.ex.sweepRunning = false })
			return nil, err
		}
		return func() { p.ex.sweep, p.ex.sweepRunning = pts, false }, nil
	})
}

func (p *Page) onComplete(ctx app.Context, e app.Event) {
	ratio, seed := p.mask.Ratio, p.mask.Seed
	p.explorerJob(func(in explorerInput) (func(), error) {
		res, err := explore.Complete(in.lm.Rec, in.img, ratio, seed)
		if err != nil {
			return nil, err
		}
		rgba, err := recon.ToRGBA(res.Recon, res.H, res.W, in.lm.Norm)
		if err != nil {
			return nil, err
		}
		return func() {
			if err := drawRGBA("canvas-complete", res.W, res.H, rgba); err != nil {
				p.errMsg = err.Error()
				return
			}
			p.ex.completeMSE = fmt.Sprintf("%.4f", res.MSE)
			p.ex.completePasses = res.Plan.K
			p.ex.completeSeq++
		}, nil
	})
}

// --- embeddings

func (p *Page) onEmbed(ctx app.Context, e app.Event) {
	if p.lm == nil {
		return
	}
	lm, pics, current := p.lm, append([]picture(nil), p.pictures...), p.current
	p.ctx.Async(func() {
		p.mu.Lock()
		embs, ranked, err := p.embedAll(lm, pics, current)
		p.mu.Unlock()
		if isDeviceLost(err) {
			p.onDeviceLost(err)
			return
		}
		p.ctx.Dispatch(func(app.Context) {
			if err != nil {
				p.errMsg = err.Error()
				return
			}
			p.ex.embeddings, p.ex.ranked = embs, ranked
		})
	})
}

// embedAll embeds every loaded picture with the unmasked encoder and
// ranks them by similarity to the current one; the caller holds the lock.
func (p *Page) embedAll(lm *loadedModel, pics []picture, current string) ([]explore.Embedding, []explore.Similar, error) {
	if p.ex.embedModel != lm.Model {
		enc, err := lm.Model.NewEncoderPass(1)
		if err != nil {
			return nil, nil, err
		}
		p.ex.embedModel, p.ex.encoder = lm.Model, enc
	}
	var embs []explore.Embedding
	query := 0
	for _, pic := range pics {
		img, _, err := prepare(lm, pic.Pix)
		if err != nil {
			return nil, nil, fmt.Errorf("embed %s: %w", pic.Name, err)
		}
		em, err := explore.Embed(p.ex.encoder, pic.Name, img)
		if err != nil {
			return nil, nil, err
		}
		if pic.Key == current {
			query = len(embs)
		}
		embs = append(embs, em)
	}
	ranked, err := explore.Rank(embs, query)
	return embs, ranked, err
}

func (p *Page) onEmbeddingDownload(format string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		embs, source := p.ex.embeddings, "webmae"
		if p.lm != nil {
			source = p.lm.Source
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
			p.errMsg = err.Error()
		}
	}
}
