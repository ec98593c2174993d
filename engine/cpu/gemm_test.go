package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/backend"
)

// TestMatMulShapes checks MatMul (the packed AVX2 kernel where the CPU has
// it, else gonum) against a float64 reference over a grid of shapes that
// are not multiples of the 6x16 tile or the 256-deep packing, for every
// transpose, bias and accumulate combination.
//
// Tolerance: the classic bound for a float32 dot product of length K is
// |err| <= K * u * sum_p |a_ip b_pj| with u = 2^-24; we check exactly
// that bound (plus the rounding of the bias and accumulate additions).
func TestMatMulShapes(t *testing.T) {
	c := New()
	rng := rand.New(rand.NewPCG(11, 12))
	dims := []int{1, 3, 6, 7, 16, 17, 33, 100}
	depths := []int{1, 5, 255, 256, 257, 600}
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range depths {
				for variant := 0; variant < 16; variant++ {
					tA, tB, withBias, acc := variant&1 != 0, variant&2 != 0, variant&4 != 0, variant&8 != 0
					if (m*n*k+variant)%3 != 0 && k > 5 { // a third of the big cases keeps the test fast
						continue
					}
					checkMatMul(t, c, rng, backend.MatMul{M: m, N: n, K: k, TransA: tA, TransB: tB, Accumulate: acc}, withBias)
				}
			}
		}
	}
}

func checkMatMul(t *testing.T, c *Backend, rng *rand.Rand, p backend.MatMul, withBias bool) {
	t.Helper()
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	a, b, c0 := rnd(p.M*p.K), rnd(p.K*p.N), rnd(p.M*p.N)
	var bias []float32
	if withBias {
		bias = rnd(p.N)
	}
	view := func(x []float32) backend.View {
		if x == nil {
			return backend.View{}
		}
		v := backend.Whole(c.NewBuffer(len(x)))
		c.Write(v, x)
		return v
	}
	out := view(c0)
	c.MatMul(out, view(a), view(b), view(bias), p)
	got := F(out)
	at := func(i, k int) float64 {
		if p.TransA {
			return float64(a[k*p.M+i])
		}
		return float64(a[i*p.K+k])
	}
	bt := func(k, j int) float64 {
		if p.TransB {
			return float64(b[j*p.K+k])
		}
		return float64(b[k*p.N+j])
	}
	const u = 1.0 / (1 << 24)
	for i := 0; i < p.M; i++ {
		for j := 0; j < p.N; j++ {
			var want, mag float64
			for k := 0; k < p.K; k++ {
				want += at(i, k) * bt(k, j)
				mag += math.Abs(at(i, k) * bt(k, j))
			}
			extra := 0.0
			if withBias {
				want += float64(bias[j])
				extra += math.Abs(want)
			}
			if p.Accumulate {
				want += float64(c0[i*p.N+j])
				extra += math.Abs(want)
			}
			tol := float64(p.K+2)*u*mag + 2*u*extra
			if d := math.Abs(float64(got[i*p.N+j]) - want); d > tol {
				t.Fatalf("%s bias=%v: c[%d,%d] = %g, want %g (|diff| %.3g > %.3g)", describe(p), withBias, i, j, got[i*p.N+j], want, d, tol)
			}
		}
	}
}

func describe(p backend.MatMul) string {
	return fmt.Sprintf("matmul %dx%dx%d transA=%v transB=%v acc=%v", p.M, p.N, p.K, p.TransA, p.TransB, p.Accumulate)
}
