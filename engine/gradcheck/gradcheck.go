// Package gradcheck checks a model family's backward pass against central
// finite differences of its loss: for every trainable tensor, the
// directional derivative along a random unit direction u restricted to
// that tensor, (L(p+hu) - L(p-hu)) / 2h, against the analytic g.u. Both
// model families' gradient tests run it.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	"webmae/engine/model"
)

// H is the finite-difference step.
//
// Tolerance: with h = 1e-2 the truncation error is O(h^2) times the
// third derivative, ~1e-5 on the small test models, and float32 rounding
// of the loss (~1e-7 relative, loss ~1) contributes ~1e-7/h = 1e-5
// (observed differences on the official family's test: at most 1.04e-4,
// on the tutorial's: 1.25e-5); a check allows AbsTol + RelTol*|numeric|,
// far below the size of any real gradient bug (a wrong sign, factor or
// missing term changes g.u by O(|g.u|)).
const (
	H      = 1e-2
	AbsTol = 2e-4
	RelTol = 2e-3
)

// Model is the part of a model the check uses: its flat parameters and
// the gradients of its last backward pass.
type Model interface {
	SetParams(host []float32) error
	ReadGrads() ([]float32, error)
}

// Pass is a forward and backward pass on inputs already set.
type Pass interface {
	Forward()
	Backward()
	Loss() (float32, error)
}

// Result is one tensor's directional derivative.
type Result struct {
	Name              string
	Numeric, Analytic float64
}

// Err says whether the analytic value is outside the tolerance.
func (r Result) Err() error {
	if diff := math.Abs(r.Numeric - r.Analytic); diff > AbsTol+RelTol*math.Abs(r.Numeric) {
		return fmt.Errorf("%s: finite difference %.6g, analytic %.6g (diff %.3g)", r.Name, r.Numeric, r.Analytic, diff)
	}
	return nil
}

// Perturb adds N(0, 0.3^2) noise to every tensor that is not frozen, so
// that biases, LayerNorm affines and tokens are checked away from their
// initial values (zero, one).
func Perturb(params []float32, tensors []model.Tensor, rng *rand.Rand) {
	for _, t := range tensors {
		if t.Group == model.GroupFrozen {
			continue
		}
		for i := t.Off; i < t.Off+t.Len; i++ {
			params[i] += float32(rng.NormFloat64() * 0.3)
		}
	}
}

// Check runs p's forward and backward at params and returns one Result
// for every tensor that is not frozen, in the order of tensors (the
// layout). A frozen tensor must have a zero gradient, else Check fails.
// It leaves params loaded in m.
func Check(m Model, p Pass, params []float32, tensors []model.Tensor, rng *rand.Rand) ([]Result, error) {
	lossAt := func(ps []float32) (float64, error) {
		if err := m.SetParams(ps); err != nil {
			return 0, err
		}
		p.Forward()
		v, err := p.Loss()
		return float64(v), err
	}
	if _, err := lossAt(params); err != nil {
		return nil, err
	}
	p.Backward()
	grads, err := m.ReadGrads()
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range tensors {
		g := grads[t.Off : t.Off+t.Len]
		if t.Group == model.GroupFrozen {
			for _, v := range g {
				if v != 0 {
					return nil, fmt.Errorf("frozen %s has a gradient", t.Name)
				}
			}
			continue
		}
		r, err := directional(lossAt, params, g, t, rng)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := m.SetParams(params); err != nil {
		return nil, err
	}
	return out, nil
}

// directional compares g.u with the central difference along a random
// unit direction u over tensor t.
func directional(lossAt func([]float32) (float64, error), params, g []float32, t model.Tensor, rng *rand.Rand) (Result, error) {
	u := make([]float64, t.Len)
	var norm float64
	for i := range u {
		u[i] = rng.NormFloat64()
		norm += u[i] * u[i]
	}
	norm = math.Sqrt(norm)
	r := Result{Name: t.Name}
	plus := append([]float32(nil), params...)
	minus := append([]float32(nil), params...)
	for i := range u {
		u[i] /= norm
		r.Analytic += float64(g[i]) * u[i]
		plus[t.Off+i] += float32(H * u[i])
		minus[t.Off+i] -= float32(H * u[i])
	}
	lp, err := lossAt(plus)
	if err != nil {
		return r, err
	}
	lm, err := lossAt(minus)
	if err != nil {
		return r, err
	}
	r.Numeric = (lp - lm) / (2 * H)
	return r, nil
}
