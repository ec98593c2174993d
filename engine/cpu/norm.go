package cpu

import (
	"math"

	"webmae/engine/backend"
)

// meanSquares returns a row's mean and the sum of squared deviations from
// it (two passes in float64).
func meanSquares(row []float32) (mean, squares float64) {
	for _, v := range row {
		mean += float64(v)
	}
	mean /= float64(len(row))
	for _, v := range row {
		d := float64(v) - mean
		squares += d * d
	}
	return mean, squares
}

// LayerNorm implements backend.Kernels.
func (c *Backend) LayerNorm(y, mean, rstd, x, gamma, beta backend.View, rows, dim int, eps float32) {
	sameLen("layernorm x", x.Len, rows*dim)
	sameLen("layernorm y", y.Len, rows*dim)
	ys, ms, rs, xs, g, bt := F(y), F(mean), F(rstd), F(x), F(gamma), F(beta)
	c.parallel(rows, dim*4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := xs[r*dim : (r+1)*dim]
			mu, sq := meanSquares(row)
			inv := 1 / math.Sqrt(sq/float64(dim)+float64(eps))
			ms[r], rs[r] = float32(mu), float32(inv)
			out := ys[r*dim : (r+1)*dim]
			for j, v := range row {
				out[j] = float32((float64(v)-mu)*inv)*g[j] + bt[j]
			}
		}
	})
}

// LayerNormBackward implements backend.Kernels:
// xhat = (x-mean)*rstd, g = dy*gamma,
// dx = rstd * (g - mean(g) - xhat*mean(g*xhat)),
// dgamma = sum_rows dy*xhat, dbeta = sum_rows dy.
func (c *Backend) LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma backend.View, rows, dim int, accumulate bool) {
	sameLen("layernorm backward", dy.Len, rows*dim)
	dxs, dys, xs, ms, rs, g := F(dx), F(dy), F(x), F(mean), F(rstd), F(gamma)
	c.parallel(rows, dim*6, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dyr, dxr := xs[r*dim:(r+1)*dim], dys[r*dim:(r+1)*dim], dxs[r*dim:(r+1)*dim]
			mu, inv := float64(ms[r]), float64(rs[r])
			var sumG, sumGX float64
			for j := range xr {
				xhat := (float64(xr[j]) - mu) * inv
				gj := float64(dyr[j]) * float64(g[j])
				sumG += gj
				sumGX += gj * xhat
			}
			sumG /= float64(dim)
			sumGX /= float64(dim)
			for j := range xr {
				xhat := (float64(xr[j]) - mu) * inv
				v := float32(inv * (float64(dyr[j])*float64(g[j]) - sumG - xhat*sumGX))
				if accumulate {
					dxr[j] += v
				} else {
					dxr[j] = v
				}
			}
		}
	})
	dg, db := F(dgamma), F(dbeta)
	c.parallel(dim, rows*2, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			var sg, sb float64
			for r := 0; r < rows; r++ {
				d := float64(dys[r*dim+j])
				sg += d * (float64(xs[r*dim+j]) - float64(ms[r])) * float64(rs[r])
				sb += d
			}
			dg[j], db[j] = float32(sg), float32(sb)
		}
	})
}

// NormalizePatches implements backend.Kernels (norm_pix_loss target: per
// row mean and unbiased variance, eps 1e-6).
func (c *Backend) NormalizePatches(dst, x backend.View, rows, dim int) {
	sameLen("normalize patches", x.Len, rows*dim)
	sameLen("normalize patches", dst.Len, rows*dim)
	ds, xs := F(dst), F(x)
	for r := 0; r < rows; r++ {
		row := xs[r*dim : (r+1)*dim]
		mu, sq := meanSquares(row)
		inv := 1 / math.Sqrt(sq/float64(dim-1)+1e-6)
		for j, v := range row {
			ds[r*dim+j] = float32((float64(v) - mu) * inv)
		}
	}
}

// GELU implements backend.Kernels (exact erf form).
func (c *Backend) GELU(y, x backend.View) {
	sameLen("gelu", y.Len, x.Len)
	ys, xs := F(y), F(x)
	c.parallel(len(xs), 20, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(xs[i])
			ys[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
		}
	})
}

// GELUBackward implements backend.Kernels: GELU'(x) = Phi(x) + x*phi(x).
func (c *Backend) GELUBackward(dx, dy, x backend.View) {
	sameLen("gelu backward", dx.Len, x.Len)
	sameLen("gelu backward", dy.Len, x.Len)
	dxs, dys, xs := F(dx), F(dy), F(x)
	const invSqrt2Pi = 0.3989422804014327
	c.parallel(len(xs), 30, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(xs[i])
			cdf := 0.5 * (1 + math.Erf(v/math.Sqrt2))
			pdf := invSqrt2Pi * math.Exp(-0.5*v*v)
			dxs[i] = float32(float64(dys[i]) * (cdf + v*pdf))
		}
	})
}
