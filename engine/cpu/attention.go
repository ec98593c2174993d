package cpu

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"webmae/engine/backend"
)

func checkAttention(qkv, probs backend.View, b, t, heads, hd int) {
	if qkv.Len != b*t*3*heads*hd || probs.Len != b*heads*t*t {
		panic(fmt.Sprintf("cpu: attention b=%d t=%d heads=%d hd=%d: qkv %d probs %d", b, t, heads, hd, qkv.Len, probs.Len))
	}
}

// Attention implements backend.Kernels: per (sample, head)
// S = Q K^T / sqrt(hd), P = softmax(S) row-wise, O = P V.
func (c *Backend) Attention(out, probs, qkv backend.View, b, t, heads, hd int) {
	checkAttention(qkv, probs, b, t, heads, hd)
	d := heads * hd
	qs, ps, os := F(qkv), F(probs), F(out)
	scale := float32(1 / math.Sqrt(float64(hd)))
	g := gonum.Implementation{}
	c.parallel(b*heads, t*t*hd*4, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			s, h := bh/heads, bh%heads
			base := s*t*3*d + h*hd
			q, k, v := qs[base:], qs[base+d:], qs[base+2*d:]
			p := ps[bh*t*t : (bh+1)*t*t]
			g.Sgemm(blas.NoTrans, blas.Trans, t, t, hd, scale, q, 3*d, k, 3*d, 0, p, t)
			for r := 0; r < t; r++ {
				softmaxRow(p[r*t : (r+1)*t])
			}
			g.Sgemm(blas.NoTrans, blas.NoTrans, t, hd, t, 1, p, t, v, 3*d, 0, os[s*t*d+h*hd:], d)
		}
	})
}

func softmaxRow(row []float32) {
	m := float32(math.Inf(-1))
	for _, v := range row {
		m = max(m, v)
	}
	var sum float64
	for j, v := range row {
		e := math.Exp(float64(v - m))
		row[j] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for j := range row {
		row[j] *= inv
	}
}

// AttentionBackward implements backend.Kernels:
// dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)) / sqrt(hd),
// dQ = dS K, dK = dS^T Q.
func (c *Backend) AttentionBackward(dqkv, dout, qkv, probs backend.View, b, t, heads, hd int) {
	checkAttention(qkv, probs, b, t, heads, hd)
	sameLen("attention backward", dqkv.Len, qkv.Len)
	d := heads * hd
	qs, ps, dos, dqs := F(qkv), F(probs), F(dout), F(dqkv)
	scale := float32(1 / math.Sqrt(float64(hd)))
	g := gonum.Implementation{}
	c.parallel(b*heads, t*t*hd*8, func(lo, hi int) {
		dp := make([]float32, t*t)
		for bh := lo; bh < hi; bh++ {
			s, h := bh/heads, bh%heads
			base := s*t*3*d + h*hd
			q, k, v := qs[base:], qs[base+d:], qs[base+2*d:]
			dq, dk, dv := dqs[base:], dqs[base+d:], dqs[base+2*d:]
			do := dos[s*t*d+h*hd:]
			p := ps[bh*t*t : (bh+1)*t*t]
			g.Sgemm(blas.Trans, blas.NoTrans, t, hd, t, 1, p, t, do, d, 0, dv, 3*d)
			g.Sgemm(blas.NoTrans, blas.Trans, t, t, hd, 1, do, d, v, 3*d, 0, dp, t)
			for r := 0; r < t; r++ {
				pr, dr := p[r*t:(r+1)*t], dp[r*t:(r+1)*t]
				var dot float64
				for j := range pr {
					dot += float64(pr[j]) * float64(dr[j])
				}
				for j := range pr {
					dr[j] = pr[j] * (dr[j] - float32(dot)) * scale
				}
			}
			g.Sgemm(blas.NoTrans, blas.NoTrans, t, hd, t, 1, dp, t, k, 3*d, 0, dq, 3*d)
			g.Sgemm(blas.Trans, blas.NoTrans, t, hd, t, 1, dp, t, q, 3*d, 0, dk, 3*d)
		}
	})
}
