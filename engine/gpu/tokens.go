package gpu

import (
	"fmt"

	"webmae/engine/backend"
)

// tokenCall starts a tokens.wgsl dispatch: b, l, k, d, n and the views
// out, src, first, idx, mask.
func (b *Backend) tokenCall(k kernel, bs, l, kk, d, n int, views [5]backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u("b", bs)
	c.u("l", l)
	c.u("k", kk)
	c.u("d", d)
	c.u("n", n)
	b.bindViews(c, views[:]...)
	return c
}

// GatherTokens implements backend.Kernels.
func (b *Backend) GatherTokens(out, emb, first, keep backend.View, bs, l, k, d int) {
	if out.Len != bs*(1+k)*d || emb.Len != bs*l*d || first.Len != d || keep.Len != bs*k {
		panic(fmt.Sprintf("gpu: gather tokens b=%d l=%d k=%d d=%d: sizes %d %d %d %d", bs, l, k, d, out.Len, emb.Len, first.Len, keep.Len))
	}
	if out.Len == 0 {
		return
	}
	c := b.tokenCall(kGather, bs, l, k, d, out.Len, [5]backend.View{out, emb, first, keep, {}})
	if c != nil {
		b.dispatch(c, b.grid1(c, out.Len))
	}
}

// GatherTokensBackward implements backend.Kernels: zero demb, scatter the
// kept rows back, and sum the CLS rows over the batch.
func (b *Backend) GatherTokensBackward(demb, dfirst, dout, keep backend.View, bs, l, k, d int) {
	if dout.Len != bs*(1+k)*d || demb.Len != bs*l*d || dfirst.Len != d || keep.Len != bs*k {
		panic(fmt.Sprintf("gpu: gather tokens backward b=%d l=%d k=%d d=%d: sizes %d %d %d %d", bs, l, k, d, dout.Len, demb.Len, dfirst.Len, keep.Len))
	}
	b.Zero(demb)
	if n := bs * k * d; n > 0 {
		c := b.tokenCall(kScatter, bs, l, k, d, n, [5]backend.View{demb, dout, {}, keep, {}})
		if c != nil {
			b.dispatch(c, b.grid1(c, n))
		}
	}
	if d > 0 && bs > 0 {
		b.columnSum(dfirst, dout, bs, (1+k)*d, false)
	} else {
		b.Zero(dfirst)
	}
}

// Unshuffle implements backend.Kernels.
func (b *Backend) Unshuffle(out, y, maskToken, restore backend.View, bs, l, k, d int) {
	if out.Len != bs*(1+l)*d || y.Len != bs*(1+k)*d || maskToken.Len != d || restore.Len != bs*l {
		panic(fmt.Sprintf("gpu: unshuffle b=%d l=%d k=%d d=%d: sizes %d %d %d %d", bs, l, k, d, out.Len, y.Len, maskToken.Len, restore.Len))
	}
	if out.Len == 0 {
		return
	}
	c := b.tokenCall(kUnshuffle, bs, l, k, d, out.Len, [5]backend.View{out, y, maskToken, restore, {}})
	if c != nil {
		b.dispatch(c, b.grid1(c, out.Len))
	}
}

// UnshuffleBackward implements backend.Kernels: a gather of the kept rows
// and a masked column sum for the mask token.
func (b *Backend) UnshuffleBackward(dy, dmaskToken, dout, keep, mask backend.View, bs, l, k, d int) {
	if dout.Len != bs*(1+l)*d || dy.Len != bs*(1+k)*d || dmaskToken.Len != d || keep.Len != bs*k || mask.Len != bs*l {
		panic(fmt.Sprintf("gpu: unshuffle backward b=%d l=%d k=%d d=%d: sizes %d %d %d %d %d", bs, l, k, d, dout.Len, dy.Len, dmaskToken.Len, keep.Len, mask.Len))
	}
	if dy.Len > 0 {
		c := b.tokenCall(kUnshuffleBwd, bs, l, k, d, dy.Len, [5]backend.View{dy, dout, {}, keep, {}})
		if c != nil {
			b.dispatch(c, b.grid1(c, dy.Len))
		}
	}
	if d > 0 {
		c := b.tokenCall(kMaskTokenSum, bs, l, k, d, 0, [5]backend.View{dmaskToken, dout, {}, {}, mask})
		if c != nil {
			b.dispatch(c, dims{ceilDiv(d, c.p.constant("COLS")), 1})
		}
	}
}
