package gradcheck

import (
	"math/rand/v2"
	"strings"
	"testing"

	"webmae/engine/model"
)

// quadratic is a model whose loss is sum(a_i * p_i^2) / 2 over its
// parameters, with gradient a_i * p_i; wrong scales the gradient of index
// 0 to simulate a backward bug, and frozen entries get no gradient.
type quadratic struct {
	a, p, g []float32
	loss    float32
	wrong   float32
}

func (q *quadratic) SetParams(h []float32) error   { q.p = append(q.p[:0], h...); return nil }
func (q *quadratic) ReadGrads() ([]float32, error) { return append([]float32(nil), q.g...), nil }
func (q *quadratic) Loss() (float32, error)        { return q.loss, nil }
func (q *quadratic) Forward() {
	q.loss = 0
	for i, v := range q.p {
		q.loss += q.a[i] * v * v / 2
	}
}
func (q *quadratic) Backward() {
	q.g = make([]float32, len(q.p))
	for i, v := range q.p {
		q.g[i] = q.a[i] * v
	}
	q.g[0] *= q.wrong
}

var quadTensors = []model.Tensor{
	{Name: "w", Span: model.Span{Off: 0, Len: 3}, Group: model.GroupDecay},
	{Name: "b", Span: model.Span{Off: 3, Len: 2}, Group: model.GroupNoDecay},
	{Name: "frozen", Span: model.Span{Off: 5, Len: 1}, Group: model.GroupFrozen},
}

func runQuadratic(wrong float32) ([]Result, error) {
	q := &quadratic{a: []float32{1, 2, 0.5, 3, 1, 0}, wrong: wrong}
	params := []float32{0.4, -0.3, 0.8, 0.1, -0.6, 0}
	rng := rand.New(rand.NewPCG(3, 4))
	Perturb(params, quadTensors, rng)
	return Check(q, q, params, quadTensors, rng)
}

// TestCheckAcceptsAndRejects: a right gradient passes every tensor, a
// gradient with one entry doubled fails that tensor, and a frozen tensor
// with a gradient is refused.
func TestCheckAcceptsAndRejects(t *testing.T) {
	res, err := runQuadratic(1)
	if err != nil || len(res) != 2 {
		t.Fatalf("right gradient: %d results, %v", len(res), err)
	}
	for _, r := range res {
		if err := r.Err(); err != nil {
			t.Error(err)
		}
	}
	res, err = runQuadratic(2)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err() == nil || res[1].Err() != nil {
		t.Fatalf("doubled gradient entry: w %v, b %v; want only w to fail", res[0].Err(), res[1].Err())
	}
	q := &quadratic{a: []float32{1, 1, 1, 1, 1, 1}, wrong: 1}
	if _, err := Check(q, q, []float32{1, 1, 1, 1, 1, 1}, quadTensors, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Fatalf("frozen tensor with a gradient: %v", err)
	}
}
