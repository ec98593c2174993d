package gpu

import (
	"webmae/engine/backend"
)

// layerNormCall starts a layernorm.wgsl dispatch with rows, dim, eps and
// flags; views are bound when given (out, x, mean, rstd, gamma, beta, dy;
// empty views bind nothing).
func (b *Backend) layerNormCall(k kernel, rows, dim int, eps float32, flags int, views ...backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u("rows", rows)
	c.u("dim", dim)
	c.f("eps", eps)
	c.u("flags", flags)
	if views != nil {
		b.bindViews(c, views...)
	}
	return c
}

// LayerNorm implements backend.Kernels.
func (b *Backend) LayerNorm(y, mean, rstd, x, gamma, beta backend.View, rows, dim int, eps float32) {
	sameLen("layernorm x", x.Len, rows*dim)
	sameLen("layernorm y", y.Len, rows*dim)
	sameLen("layernorm mean", mean.Len, rows)
	sameLen("layernorm rstd", rstd.Len, rows)
	sameLen("layernorm gamma", gamma.Len, dim)
	sameLen("layernorm beta", beta.Len, dim)
	if rows == 0 || dim == 0 {
		return
	}
	if dim <= lnRowsMaxDim {
		c := b.layerNormCall(kLayerNormR, rows, dim, eps, 0, y, x, mean, rstd, gamma, beta, backend.View{})
		b.dispatch(c, b.grid1(c, rows))
		return
	}
	c := b.layerNormCall(kLayerNorm, rows, dim, eps, 0, y, x, mean, rstd, gamma, beta, backend.View{})
	b.dispatch(c, b.grid(rows))
}

// lnRowsMaxDim is the widest row the one-thread-per-row LayerNorm kernels
// take: a serial pass over at most 256 values per thread costs little on
// any adapter, and software adapters (SwiftShader) run them several times
// faster than the row-per-workgroup kernels with their barriers.
const lnRowsMaxDim = 256

// LayerNormBackward implements backend.Kernels: one row-parallel dispatch
// for dx and one column-parallel dispatch for dgamma and dbeta.
func (b *Backend) LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma backend.View, rows, dim int, accumulate bool) {
	sameLen("layernorm backward dy", dy.Len, rows*dim)
	sameLen("layernorm backward x", x.Len, rows*dim)
	sameLen("layernorm backward dx", dx.Len, rows*dim)
	sameLen("layernorm backward mean", mean.Len, rows)
	sameLen("layernorm backward rstd", rstd.Len, rows)
	sameLen("layernorm backward gamma", gamma.Len, dim)
	sameLen("layernorm backward dgamma", dgamma.Len, dim)
	sameLen("layernorm backward dbeta", dbeta.Len, dim)
	if dim == 0 {
		return
	}
	if rows == 0 {
		b.Zero(dgamma)
		b.Zero(dbeta)
		return
	}
	flags := 0
	if accumulate {
		flags = 1
	}
	if dim <= lnRowsMaxDim {
		c := b.layerNormCall(kLayerNormDXR, rows, dim, 0, flags, dx, x, mean, rstd, gamma, backend.View{}, dy)
		b.dispatch(c, b.grid1(c, rows))
	} else {
		c := b.layerNormCall(kLayerNormDX, rows, dim, 0, flags, dx, x, mean, rstd, gamma, backend.View{}, dy)
		b.dispatch(c, b.grid(rows))
	}
	// dgamma and dbeta are written through binding 1 only: two writable
	// bindings of one buffer (both are views of the gradients) are invalid
	// in a browser's WebGPU. When both fit one bound range, one dispatch
	// writes both; otherwise one dispatch each.
	if both, ok := covering(dgamma, dbeta); ok {
		if _, _, err := b.bindRange(both, "layernorm backward dgamma+dbeta"); err == nil {
			b.layerNormParams(rows, dim, lnWriteGamma|lnWriteBeta, both, dgamma.Off-both.Off, dbeta.Off-both.Off, x, mean, rstd, dy)
			return
		}
	}
	b.layerNormParams(rows, dim, lnWriteGamma, dgamma, 0, 0, x, mean, rstd, dy)
	b.layerNormParams(rows, dim, lnWriteBeta, dbeta, 0, 0, x, mean, rstd, dy)
}

// layernorm_backward_params flags.
const (
	lnWriteGamma = 2
	lnWriteBeta  = 4
)

// layerNormParams dispatches layernorm_backward_params writing dgamma at
// element gOff and/or dbeta at bOff of the view out.
func (b *Backend) layerNormParams(rows, dim, flags int, out backend.View, gOff, bOff int, x, mean, rstd, dy backend.View) {
	c := b.layerNormCall(kLayerNormDP, rows, dim, 0, flags)
	if c == nil {
		return
	}
	base := b.bind(c, 1, out) // dgamma and dbeta are both written through binding 1
	b.bind(c, 2, x)
	b.bind(c, 3, mean)
	b.bind(c, 4, rstd)
	b.bind(c, 5, backend.View{}) // gamma: unused
	b.bind(c, 7, dy)
	c.u("off_out", base+gOff)  // dgamma
	c.u("off_beta", base+bOff) // dbeta; binding 6 (beta) stays unbound
	b.dispatch(c, dims{ceilDiv(dim, c.p.constant("COLS")), 1})
}
