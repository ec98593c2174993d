package cpu

import (
	"fmt"
	"math"

	"webmae/engine/backend"
)

func checkLoss(pred, target, mask backend.View, b, l, dim int) {
	if pred.Len != b*(1+l)*dim || target.Len != b*l*dim || mask.Len != b*l {
		panic(fmt.Sprintf("cpu: masked mse b=%d l=%d dim=%d: pred %d target %d mask %d", b, l, dim, pred.Len, target.Len, mask.Len))
	}
}

// MaskedMSE implements backend.Kernels.
func (c *Backend) MaskedMSE(loss, pred, target, mask backend.View, b, l, dim int, numMasked float32) {
	checkLoss(pred, target, mask, b, l, dim)
	ps, ts, ms := F(pred), F(target), F(mask)
	var total float64
	for s := 0; s < b; s++ {
		for i := 0; i < l; i++ {
			m := ms[s*l+i]
			if m == 0 {
				continue
			}
			pr, tr := ps[(s*(1+l)+1+i)*dim:], ts[(s*l+i)*dim:]
			var sq float64
			for j := 0; j < dim; j++ {
				e := float64(pr[j]) - float64(tr[j])
				sq += e * e
			}
			total += float64(m) * sq / float64(dim)
		}
	}
	F(loss)[0] = float32(total / float64(numMasked))
}

// MaskedMSEBackward implements backend.Kernels:
// dpred[b,1+i,j] = dloss * mask[b,i] * 2 (pred - target) / (dim * numMasked).
func (c *Backend) MaskedMSEBackward(dpred, pred, target, mask backend.View, b, l, dim int, numMasked, dloss float32) {
	checkLoss(pred, target, mask, b, l, dim)
	sameLen("masked mse backward", dpred.Len, pred.Len)
	ds, ps, ts, ms := F(dpred), F(pred), F(target), F(mask)
	scale := 2 * float64(dloss) / (float64(dim) * float64(numMasked))
	for s := 0; s < b; s++ {
		clear(ds[s*(1+l)*dim : (s*(1+l)+1)*dim])
		for i := 0; i < l; i++ {
			o := (s*(1+l) + 1 + i) * dim
			f := scale * float64(ms[s*l+i])
			tr := ts[(s*l+i)*dim:]
			for j := 0; j < dim; j++ {
				ds[o+j] = float32(f * (float64(ps[o+j]) - float64(tr[j])))
			}
		}
	}
}

// AdamWStep implements backend.Kernels (PyTorch AdamW, see backend.AdamW).
func (c *Backend) AdamWStep(params, grads, m, v backend.View, h backend.AdamW) {
	sameLen("adamw", params.Len, grads.Len)
	ps, gs, ms, vs := F(params), F(grads), F(m), F(v)
	decay := 1 - float64(h.LR)*float64(h.WeightDecay)
	b1, b2 := float64(h.Beta1), float64(h.Beta2)
	stepSize := float64(h.LR) / float64(h.BiasCorr1)
	sqrtBC2 := math.Sqrt(float64(h.BiasCorr2))
	eps := float64(h.Eps)
	c.parallel(len(ps), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := float64(gs[i])
			mi := b1*float64(ms[i]) + (1-b1)*g
			vi := b2*float64(vs[i]) + (1-b2)*g*g
			ms[i], vs[i] = float32(mi), float32(vi)
			p := float64(ps[i]) * decay
			ps[i] = float32(p - stepSize*mi/(math.Sqrt(vi)/sqrtBC2+eps))
		}
	})
}
