package gpu

import (
	"fmt"

	"webmae/engine/backend"
)

// lossCall starts a loss.wgsl dispatch: rows, l, dim, n, scale and the
// views out, pred, tgt, mask, rowloss.
func (b *Backend) lossCall(k kernel, rows, l, dim, n int, scale float32, views [5]backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u("rows", rows)
	c.u("l", l)
	c.u("dim", dim)
	c.u("n", n)
	c.f("scale", scale)
	b.bindViews(c, views[:]...)
	return c
}

// NormalizePatches implements backend.Kernels.
func (b *Backend) NormalizePatches(dst, x backend.View, rows, dim int) {
	sameLen("normalize patches x", x.Len, rows*dim)
	sameLen("normalize patches dst", dst.Len, rows*dim)
	if x.Len == 0 {
		return
	}
	c := b.lossCall(kNormalize, rows, 0, dim, 0, 0, [5]backend.View{dst, x, {}, {}, {}})
	b.dispatch(c, b.grid(rows))
}

func checkLoss(pred, target, mask backend.View, bs, l, dim int) {
	if pred.Len != bs*(1+l)*dim || target.Len != bs*l*dim || mask.Len != bs*l {
		panic(fmt.Sprintf("gpu: masked mse b=%d l=%d dim=%d: pred %d target %d mask %d", bs, l, dim, pred.Len, target.Len, mask.Len))
	}
}

// MaskedMSE implements backend.Kernels: per-row losses into a scratch
// buffer, then a single-workgroup sum (deterministic, no float atomics).
func (b *Backend) MaskedMSE(loss, pred, target, mask backend.View, bs, l, dim int, numMasked float32) {
	checkLoss(pred, target, mask, bs, l, dim)
	sameLen("masked mse loss", loss.Len, 1)
	rows := bs * l
	if rows == 0 || dim == 0 {
		b.Zero(loss)
		return
	}
	rowloss := backend.View{Buf: b.scratchBuffer("mse rows", rows), Len: rows}
	c := b.lossCall(kMSERows, rows, l, dim, 0, 0, [5]backend.View{rowloss, pred, target, mask, {}})
	b.dispatch(c, b.grid(rows))
	c = b.lossCall(kMSETotal, rows, l, dim, 0, float32(1/float64(numMasked)), [5]backend.View{loss, {}, {}, {}, rowloss})
	b.dispatch(c, dims{1, 1})
}

// MaskedMSEBackward implements backend.Kernels.
func (b *Backend) MaskedMSEBackward(dpred, pred, target, mask backend.View, bs, l, dim int, numMasked, dloss float32) {
	checkLoss(pred, target, mask, bs, l, dim)
	sameLen("masked mse backward", dpred.Len, pred.Len)
	if dpred.Len == 0 {
		return
	}
	coef := float32(2 * float64(dloss) / (float64(dim) * float64(numMasked)))
	c := b.lossCall(kMSEBackward, bs*l, l, dim, dpred.Len, coef, [5]backend.View{dpred, pred, target, mask, {}})
	if c != nil {
		b.dispatch(c, b.grid(ceilDiv(dpred.Len, c.p.constant("EW"))))
	}
}
