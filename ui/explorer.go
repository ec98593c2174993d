package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/explore"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// explorer is the explorer card under the demo: the attention maps of a
// query patch, the masking sweep, the complete reconstruction, the
// embeddings and the pipeline stages of the current picture
// (statePicture), model (stateModel) and mask (stateMask, reconView's).
// Every number comes from engine/explore on the session's backend. While
// its attention view is on (stateAttention) a click on the masked view
// picks the query patch (actionQuery).
type explorer struct {
	app.Compo

	ctx     app.Context
	session sessionRef
	model   modelState

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
	embedModel *mae.Model        // the model encoder was made for (session goroutine only)
	encoder    *mae.EncoderPass  // cached between embeddings
	stages     bool              // the pipeline view is open
	stageSeq   int               // pipelines drawn
	stageText  map[string]string // what each stage's numbers are
}

func (c *explorer) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.ctx = ctx
	ctx.ObserveState(stateSession, &c.session)
	ctx.ObserveState(stateModel, &c.model).OnChange(func() {
		c.attn = nil // of the previous model
		if c.model.LM != nil && c.query >= c.model.LM.Config.NumPatches() {
			c.hasQuery = false
		}
	})
	// reconView publishes the mask with every reconstruction it asks for:
	// after a change of the model, the picture or the mask.
	ctx.ObserveState(stateMask, new(maskState)).OnChange(func() {
		c.refreshAttention()
		if c.stages {
			c.refreshStages()
		}
	})
	ctx.Handle(actionQuery, func(_ app.Context, a app.Action) {
		if i, ok := a.Value.(int); ok {
			c.setQuery(i)
		}
	})
}

// explorerInput is what every explorer computation starts from: the
// model, the current image fitted and normalised, and the current mask.
type explorerInput struct {
	lm    *loadedModel
	img   []float32
	mk    model.Masking
	noise []float32 // of a random mask; nil for block-wise and hand-made
}

// input reads the shared states as they are now.
func (c *explorer) input() (explorerInput, error) {
	var ms modelState
	var ps pictureState
	var mask maskState
	c.ctx.GetState(stateModel, &ms)
	c.ctx.GetState(statePicture, &ps)
	c.ctx.GetState(stateMask, &mask)
	lm := ms.LM
	if lm == nil || ps.Pic == nil || mask.Ratio == 0 {
		return explorerInput{}, errors.New("the explorer needs a model and an image: wait for the first reconstruction")
	}
	if lm.Tut != nil {
		return explorerInput{}, errors.New("the explorer works with the official MAE family; this model is the tutorial's")
	}
	img, _, err := prepare(lm, ps.Pic.Pix)
	if err != nil {
		return explorerInput{}, fmt.Errorf("explorer: prepare image: %w", err)
	}
	mask = mask.fit(lm.Config)
	mk, err := lm.masking(mask)
	if err != nil {
		return explorerInput{}, fmt.Errorf("explorer: %w", err)
	}
	in := explorerInput{lm: lm, img: img, mk: mk}
	if mask.Hand == nil && !mask.Block {
		in.noise = recon.MaskNoise(mk.L, mask.Seed)
	}
	return in, nil
}

// job runs fn with the current input on the session's backend (under its
// lock), then the function fn returns on the UI goroutine; an error is
// shown (a lost device goes to the page). It reports whether fn was started.
func (c *explorer) job(fn func(in explorerInput) (func(), error)) bool {
	in, err := c.input()
	s := c.session.s
	if err == nil && s == nil {
		err = errors.New("the explorer has no backend yet")
	}
	if err != nil {
		showUserError(c.ctx, "open the explorer", err)
		return false
	}
	c.ctx.Async(func() {
		var done func()
		err := s.do(func(backend.Kernels) (err error) { done, err = fn(in); return err })
		if s.lost(err) {
			return
		}
		c.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				showUserError(ctx, "compute the explorer's views", err)
				return
			}
			done()
		})
	})
	return true
}

// --- attention

func (c *explorer) onAttentionToggle(ctx app.Context, e app.Event) {
	c.attention = ctx.JSSrc().Get("checked").Bool()
	ctx.SetState(stateAttention, c.attention)
	if c.attention && !c.hasQuery {
		// Start with the first removed patch: where the decoder looked to
		// fill it in.
		in, err := c.input()
		if err != nil {
			showUserError(ctx, "show the attention", err)
			return
		}
		for i, m := range recon.Masked(in.mk, 0) {
			if m {
				c.query, c.hasQuery = i, true
				break
			}
		}
	}
	c.refreshAttention()
}

// setQuery makes patch i the attention query.
func (c *explorer) setQuery(i int) {
	c.query, c.hasQuery = i, true
	if c.attn != nil {
		c.drawAttention()
		return
	}
	c.refreshAttention()
}

// refreshAttention recomputes the attention of the current image and mask.
func (c *explorer) refreshAttention() {
	if !c.attention || !c.hasQuery {
		return
	}
	c.attnSeq++
	seq := c.attnSeq
	c.job(func(in explorerInput) (func(), error) {
		a, res, err := explore.Collect(in.lm.Rec, in.img, in.mk)
		if err != nil {
			return nil, fmt.Errorf("attention: %w", err)
		}
		base, err := recon.ToRGBA(res.Original, res.H, res.W, in.lm.Norm)
		if err != nil {
			return nil, fmt.Errorf("attention: %w", err)
		}
		return func() {
			if seq != c.attnSeq || in.lm != c.model.LM {
				return
			}
			c.attn, c.attnBase, c.attnSize = a, base, res.W
			c.drawAttention()
		}, nil
	})
}

// attentionView is the selected layer, head and rollout.
func (c *explorer) attentionView() explore.View {
	v := explore.View{Stack: mae.Decoder, Head: c.head - 1, Rollout: c.rollout}
	if a := c.attn; a != nil {
		v.Layer = len(a.Dec.Probs) - 1
	}
	if kind, n, ok := strings.Cut(c.layer, "-"); ok {
		if i, err := strconv.Atoi(n); err == nil {
			v.Layer = i
			if kind == "enc" {
				v.Stack = mae.Encoder
			}
		}
	}
	st := c.attn.Dec
	if v.Stack == mae.Encoder {
		st = c.attn.Enc
	}
	if v.Head >= st.Heads || v.Layer >= len(st.Probs) {
		v.Head = explore.AllHeads
		v.Layer = len(st.Probs) - 1
	}
	return v
}

// drawAttention draws the cached attention of the query patch.
func (c *explorer) drawAttention() {
	a, lm := c.attn, c.model.LM
	if a == nil || lm == nil || !c.hasQuery || c.query >= a.L {
		return
	}
	v := c.attentionView()
	pm, err := a.Map(v, c.query)
	if err != nil {
		c.attnNote = err.Error() + "; choose a decoder layer or a visible patch."
		return
	}
	g := lm.Config.GridSize()
	rgba := patchOverlay(c.attnBase, c.attnSize, g, c.attnSize/g, pm.Weights, c.query)
	if err := drawRGBA("canvas-attention", c.attnSize, c.attnSize, rgba); err != nil {
		showUserError(c.ctx, "draw the attention", err)
		return
	}
	kind := "visible"
	if a.Masked[c.query] {
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
		if i != c.query && !math.IsNaN(w) && w > bestW {
			best, bestW = i, w
		}
	}
	c.attnNote = fmt.Sprintf("Patch %d, %s: where the %s looked, %s. Weight on CLS %.3f; strongest other patch %d (%.3f).",
		c.query, kind, v.Stack, what, pm.CLS, best, bestW)
	c.attnDrawn++
}

func (c *explorer) onAttentionSelect(field string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		el := ctx.JSSrc()
		switch field {
		case "layer":
			c.layer = el.Get("value").String()
			c.head = 0
		case "head":
			h, err := strconv.Atoi(el.Get("value").String())
			if err != nil || h < 0 {
				h = 0
			}
			c.head = h
		case "rollout":
			c.rollout = el.Get("checked").Bool()
		}
		c.drawAttention()
	}
}
