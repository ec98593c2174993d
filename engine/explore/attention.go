// Package explore computes what the MAE explorer shows about one image:
// the attention maps of every block, a masking-ratio sweep against the
// baselines, a complete reconstruction from complementary masks, encoder
// embeddings, the tensors of each step of the MAE pipeline, and the
// explorer's settings as a URL query. Every model number comes from the
// engine's own kernels (engine/mae on the CPU or WebGPU backend).
//
// It compiles for GOOS=js GOARCH=wasm (no cgo, no os).
package explore

import (
	"fmt"
	"math"

	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// AllHeads selects the mean over a layer's heads.
const AllHeads = -1

// Layers holds the attention probabilities of one stack for one image:
// Probs[layer] is (Heads, T, T), row = query token, column = key token.
type Layers struct {
	Heads, T int
	Probs    [][]float32
}

// Attention is every attention probability of one image's forward pass.
// Encoder token 0 is CLS and token 1+j is patch Keep[j]; decoder token 0
// is CLS and token 1+l is patch l (the decoder input is unshuffled with
// ids_restore, mask tokens at the removed patches).
type Attention struct {
	L      int
	Keep   []int32
	Masked []bool
	Enc    Layers
	Dec    Layers
}

// Collect reconstructs image (C, H, W, normalised) with mk (B = 1) and
// reads the probabilities the Attention kernel wrote in that same pass.
func Collect(r *recon.Reconstructor, image []float32, mk model.Masking) (*Attention, recon.Result, error) {
	res, err := r.Reconstruct(image, mk)
	if err != nil {
		return nil, recon.Result{}, fmt.Errorf("attention: %w", err)
	}
	p, err := r.Pass(mk.K)
	if err != nil {
		return nil, recon.Result{}, fmt.Errorf("attention: %w", err)
	}
	a, err := FromPass(p, mk, 0)
	return a, res, err
}

// FromPass reads sample b's attention from a pass after its Forward with
// masking mk.
func FromPass(p *mae.Pass, mk model.Masking, b int) (*Attention, error) {
	if b < 0 || b >= mk.B {
		return nil, fmt.Errorf("attention: sample %d of %d", b, mk.B)
	}
	a := &Attention{L: mk.L, Keep: mk.Keep[b*mk.K : (b+1)*mk.K], Masked: recon.Masked(mk, b)}
	var err error
	if a.Enc, err = readStack(p, mae.Encoder, b, mk.B); err != nil {
		return nil, err
	}
	if a.Dec, err = readStack(p, mae.Decoder, b, mk.B); err != nil {
		return nil, err
	}
	if a.Enc.T != 1+mk.K || a.Dec.T != 1+mk.L {
		return nil, fmt.Errorf("attention: pass has %d encoder and %d decoder tokens, masking keeps %d of %d", a.Enc.T, a.Dec.T, mk.K, mk.L)
	}
	return a, nil
}

func readStack(p *mae.Pass, s mae.Stack, b, batch int) (Layers, error) {
	heads, t := p.AttentionShape(s)
	st := Layers{Heads: heads, T: t}
	per := heads * t * t
	for i := 0; i < p.Layers(s); i++ {
		all, err := p.AttentionProbs(s, i)
		if err != nil {
			return Layers{}, fmt.Errorf("attention: %w", err)
		}
		if len(all) != batch*per {
			return Layers{}, fmt.Errorf("attention: %s layer %d has %d values, want %d", s, i, len(all), batch*per)
		}
		st.Probs = append(st.Probs, all[b*per:(b+1)*per])
	}
	return st, nil
}

// Matrix is the T x T attention of one layer: head's probabilities, or
// with AllHeads their mean.
func (s Layers) Matrix(layer, head int) ([]float64, error) {
	if layer < 0 || layer >= len(s.Probs) {
		return nil, fmt.Errorf("attention: layer %d of %d", layer, len(s.Probs))
	}
	if head != AllHeads && (head < 0 || head >= s.Heads) {
		return nil, fmt.Errorf("attention: head %d of %d", head, s.Heads)
	}
	tt := s.T * s.T
	out := make([]float64, tt)
	lo, hi := 0, s.Heads
	if head != AllHeads {
		lo, hi = head, head+1
	}
	for h := lo; h < hi; h++ {
		for i, v := range s.Probs[layer][h*tt : (h+1)*tt] {
			out[i] += float64(v)
		}
	}
	for i := range out {
		out[i] /= float64(hi - lo)
	}
	return out, nil
}

// Rollout is attention rollout (Abnar & Zuidema 2020) through layers
// 0..upTo of the stack: each layer's head-averaged attention A gets the
// residual connection as (A + I), rows renormalised to sum to 1, and the
// layers are multiplied, R = Â_upTo ... Â_0. R[i][j] is how much of
// token j flows into token i's representation after layer upTo.
func (s Layers) Rollout(upTo int) ([]float64, error) {
	if upTo < 0 || upTo >= len(s.Probs) {
		return nil, fmt.Errorf("attention rollout: layer %d of %d", upTo, len(s.Probs))
	}
	t := s.T
	r := identity(t)
	for l := 0; l <= upTo; l++ {
		a, err := s.Matrix(l, AllHeads)
		if err != nil {
			return nil, err
		}
		for i := 0; i < t; i++ {
			a[i*t+i]++
			sum := 0.0
			for j := 0; j < t; j++ {
				sum += a[i*t+j]
			}
			for j := 0; j < t; j++ {
				a[i*t+j] /= sum
			}
		}
		r = matMul(a, r, t)
	}
	return r, nil
}

func identity(t int) []float64 {
	m := make([]float64, t*t)
	for i := 0; i < t; i++ {
		m[i*t+i] = 1
	}
	return m
}

func matMul(a, b []float64, t int) []float64 {
	c := make([]float64, t*t)
	for i := 0; i < t; i++ {
		for k := 0; k < t; k++ {
			aik := a[i*t+k]
			if aik == 0 {
				continue
			}
			for j := 0; j < t; j++ {
				c[i*t+j] += aik * b[k*t+j]
			}
		}
	}
	return c
}

// PatchMap is one query's attention laid out on the patch grid:
// Weights[l] is the weight on patch l's token (NaN where the stack has no
// token for patch l: the removed patches in the encoder), CLS the weight
// on the CLS token.
type PatchMap struct {
	Query   int
	CLS     float64
	Weights []float64
}

// View selects what Map draws.
type View struct {
	Stack   mae.Stack
	Layer   int
	Head    int  // a head, or AllHeads
	Rollout bool // attention rollout up to Layer (heads averaged)
}

// Map returns the attention of patch query's token. In the decoder every
// patch has a token (visible or mask token); in the encoder only kept
// patches do, and a removed query is an error.
func (a *Attention) Map(v View, query int) (PatchMap, error) {
	if query < 0 || query >= a.L {
		return PatchMap{}, fmt.Errorf("attention: query patch %d of %d", query, a.L)
	}
	st := a.Dec
	patchOf := func(tok int) int { return tok - 1 }
	row := 1 + query
	if v.Stack == mae.Encoder {
		st = a.Enc
		patchOf = func(tok int) int { return int(a.Keep[tok-1]) }
		row = -1
		for j, p := range a.Keep {
			if int(p) == query {
				row = 1 + j
			}
		}
		if row < 0 {
			return PatchMap{}, fmt.Errorf("attention: patch %d is removed, the encoder never sees it", query)
		}
	}
	var m []float64
	var err error
	if v.Rollout {
		m, err = st.Rollout(v.Layer)
	} else {
		m, err = st.Matrix(v.Layer, v.Head)
	}
	if err != nil {
		return PatchMap{}, err
	}
	pm := PatchMap{Query: query, CLS: m[row*st.T], Weights: make([]float64, a.L)}
	for i := range pm.Weights {
		pm.Weights[i] = math.NaN()
	}
	for tok := 1; tok < st.T; tok++ {
		pm.Weights[patchOf(tok)] = m[row*st.T+tok]
	}
	return pm, nil
}
