package gpu

import (
	"fmt"
	"math"
	"testing"
)

// attentionMagnitudes evaluates the attention backward on absolute values
// (float64, from the CPU's probabilities): the running-error magnitudes of
// every output.
type attnMag struct {
	out, dq, dk, dv []float64
	rel             float64 // relative error bound of the probabilities
}

func attentionMagnitudes(qkv, probs, dout []float64, b, t, heads, hd, chain int) attnMag {
	c := heads * hd
	scale := 1 / math.Sqrt(float64(hd))
	m := attnMag{
		out: make([]float64, b*t*c), dq: make([]float64, b*t*3*c),
	}
	m.dk, m.dv = m.dq, m.dq
	// score error: both sides compute q.k in float32 (gamma(hd) each), and
	// the max subtraction doubles it; it enters the probabilities through
	// exp as a relative error.
	var maxS float64
	for s := 0; s < b; s++ {
		for h := 0; h < heads; h++ {
			for i := 0; i < t; i++ {
				for j := 0; j < t; j++ {
					var acc float64
					for d := 0; d < hd; d++ {
						acc += math.Abs(qkv[(s*t+i)*3*c+h*hd+d] * qkv[(s*t+j)*3*c+c+h*hd+d])
					}
					maxS = max(maxS, acc*scale)
				}
			}
		}
	}
	// exp (a few ulp on the device), the normalising sum over t terms
	// (t/64 + chain on the GPU: chain the workgroup reduction's, see
	// reduceChain; float64 on the CPU) and the final scaling.
	m.rel = 4*gamma(hd+1)*maxS + gamma(t/64+chain+10)
	for s := 0; s < b; s++ {
		for h := 0; h < heads; h++ {
			P := func(i, j int) float64 { return probs[((s*heads+h)*t+i)*t+j] }
			q := func(i, d int) float64 { return math.Abs(qkv[(s*t+i)*3*c+h*hd+d]) }
			k := func(i, d int) float64 { return math.Abs(qkv[(s*t+i)*3*c+c+h*hd+d]) }
			v := func(i, d int) float64 { return math.Abs(qkv[(s*t+i)*3*c+2*c+h*hd+d]) }
			do := func(i, d int) float64 {
				if dout == nil {
					return 0
				}
				return math.Abs(dout[(s*t+i)*c+h*hd+d])
			}
			dp := make([]float64, t*t) // |dout_i| . |v_j|
			dsum := make([]float64, t)
			for i := 0; i < t; i++ {
				for j := 0; j < t; j++ {
					var a float64
					for d := 0; d < hd; d++ {
						a += do(i, d) * v(j, d)
					}
					dp[i*t+j] = a
					dsum[i] += P(i, j) * a
				}
			}
			for i := 0; i < t; i++ {
				for d := 0; d < hd; d++ {
					var o, gq, gk, gv float64
					for j := 0; j < t; j++ {
						o += P(i, j) * v(j, d)
						gq += P(i, j) * (dp[i*t+j] + dsum[i]) * k(j, d)
						gk += P(j, i) * (dp[j*t+i] + dsum[j]) * q(j, d)
						gv += P(j, i) * do(j, d)
					}
					m.out[(s*t+i)*c+h*hd+d] = o
					row := (s*t + i) * 3 * c
					m.dq[row+h*hd+d] = gq * scale
					m.dk[row+c+h*hd+d] = gk * scale
					m.dv[row+2*c+h*hd+d] = gv
				}
			}
		}
	}
	return m
}

// TestAttention runs every shape in both reduction forms and with both
// workgroup sizes the backend chooses between (GPUs 64 threads, software
// adapters 16).
func TestAttention(t *testing.T) {
	reductionForms(t, func(t *testing.T) {
		for _, wg := range []int{attentionWG, 16} {
			t.Run(fmt.Sprintf("wg%d", wg), func(t *testing.T) { withAttentionWorkgroup(t, wg, testAttention) })
		}
	})
}

// withAttentionWorkgroup runs fn with attention workgroups of wg threads.
func withAttentionWorkgroup(t *testing.T, wg int, fn func(t *testing.T)) {
	g := gpuBackend(t)
	defer func(w int) { _ = g.UseAttentionWorkgroup(w) }(g.AttentionWorkgroup())
	if err := g.UseAttentionWorkgroup(wg); err != nil {
		t.Fatal(err)
	}
	fn(t)
}

func testAttention(t *testing.T) {
	// rows > 0 caps the shader's workgroup rows (MAX_T) so that the chunked
	// online-softmax paths run: 2, 4 and 7 chunks, a last chunk of 1, and
	// one sequence longer than the largest rows (1024).
	type shape struct{ b, t, heads, hd, rows int }
	shapes := []shape{{1, 1, 1, 1, 0}, {2, 3, 1, 4, 0}, {1, 17, 3, 8, 0}, {2, 33, 2, 16, 0}, {1, 65, 1, 32, 0}, {1, 197, 2, 64, 0}, {2, 50, 4, 16, 0},
		{1, 65, 2, 16, 32}, {2, 197, 2, 64, 64}, {1, 449, 1, 8, 64}, {1, 1100, 1, 16, 0}}
	for i, s := range shapes {
		t.Run(fmt.Sprintf("b%d_t%d_h%d_hd%d_rows%d", s.b, s.t, s.heads, s.hd, s.rows), func(t *testing.T) {
			c := s.heads * s.hd
			arena := 0
			if i%2 == 1 {
				arena = 2*s.b*s.t*3*c + 2*s.b*s.t*c + s.b*s.heads*s.t*s.t + 500
			}
			e := newEnv(t, uint64(i), arena)
			if s.rows > 0 {
				defer func(r int) { e.g.attentionRows = r }(e.g.attentionRows)
				e.g.attentionRows = s.rows
			}
			// Scores of order 1..3 so the softmax is far from uniform.
			qkv := e.uniform("qkv", s.b*s.t*3*c, -1.5, 1.5)
			out := e.output("out", s.b*s.t*c)
			probs := e.output("probs", s.b*s.heads*s.t*s.t)
			e.g.Attention(out.gv, probs.gv, qkv.gv, s.b, s.t, s.heads, s.hd)
			e.c.Attention(out.cv, probs.cv, qkv.cv, s.b, s.t, s.heads, s.hd)
			qs, ps := e.host(qkv), e.host(probs)

			dout := e.uniform("dout", s.b*s.t*c, -1, 1)
			dqkv := e.output("dqkv", s.b*s.t*3*c)
			// The backward runs on each backend's own probabilities, as in a
			// training step.
			e.g.AttentionBackward(dqkv.gv, dout.gv, qkv.gv, probs.gv, s.b, s.t, s.heads, s.hd)
			e.c.AttentionBackward(dqkv.cv, dout.cv, qkv.cv, probs.cv, s.b, s.t, s.heads, s.hd)
			m := attentionMagnitudes(qs, ps, e.host(dout), s.b, s.t, s.heads, s.hd, reduceChain(t, e.g, e.g.AttentionWorkgroup()))
			// Every output is a sum of t or hd products of the magnitudes
			// above; each side errs by at most m.rel (probabilities) plus
			// gamma(t + hd) relative to the magnitude.
			f := 2 * (m.rel + gamma(s.t+s.hd+8))
			e.expect(probs, func(idx int) float64 { return f*ps[idx] + 1e-30 })
			e.expect(out, func(idx int) float64 { return f*m.out[idx] + 1e-30 })
			e.expect(dqkv, func(idx int) float64 { return 2*f*m.dq[idx] + 1e-30 })
			e.done()
		})
	}
}
