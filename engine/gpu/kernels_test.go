package gpu

import (
	"fmt"
	"math"
	"testing"

	"webmae/engine/backend"
)

// Odd sizes on purpose: 1, primes, one past a tile (65 = 64+1), the MAE's
// 197 tokens.
var oddSizes = []int{1, 3, 17, 33, 65}

func TestElementwise(t *testing.T) {
	for i, n := range []int{1, 3, 255, 256, 257, 1000, 70001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, uint64(i), map[bool]int{true: 4*n + 200}[i%2 == 1])
			dst, src := e.output("dst", n), e.uniform("src", n, -2, 2)
			z := e.output("zero", n)
			cp := e.output("copy", n)
			for _, k := range []backend.Kernels{e.g, e.c} {
				gv := k == backend.Kernels(e.g)
				v := func(x *tensor) backend.View {
					if gv {
						return x.gv
					}
					return x.cv
				}
				k.Add(v(dst), v(src))
				k.Zero(v(z))
				k.Copy(v(cp), v(src))
			}
			// Float32 addition is correctly rounded on both sides; copies
			// and zeroing are exact: bitwise equality.
			e.expect(dst, nil)
			e.expect(z, nil)
			e.expect(cp, nil)
			e.done()
		})
	}
}

func TestAddBroadcast(t *testing.T) {
	for i, sh := range [][2]int{{1, 1}, {3, 17}, {65, 33}, {197, 64}, {7, 1000}} {
		outer, n := sh[0], sh[1]
		t.Run(fmt.Sprint(outer, "x", n), func(t *testing.T) {
			e := newEnv(t, uint64(i), map[bool]int{true: outer*n + n + 100}[i%2 == 0])
			dst, src := e.output("dst", outer*n), e.uniform("src", n, -1, 1)
			e.g.AddBroadcast(dst.gv, src.gv, outer)
			e.c.AddBroadcast(dst.cv, src.cv, outer)
			e.expect(dst, nil) // one correctly rounded add per element
			e.done()
		})
	}
}

func TestGELU(t *testing.T) {
	e := newEnv(t, 1, 0)
	// Wide range: both tails of Phi and the erf switch at |x| = sqrt(2).
	vals := e.values(20000, -12, 12)
	vals = append(vals, 0, -0, 1e-30, -1e-30, 1.4142135, -1.4142135, 1.4142137, -1.4142137, 30, -30, 5e-4, -5e-4)
	n := len(vals)
	x := e.tensor("x", vals)
	dy := e.uniform("dy", n, -1, 1)
	y, dx := e.output("y", n), e.output("dx", n)
	e.g.GELU(y.gv, x.gv)
	e.c.GELU(y.cv, x.cv)
	e.g.GELUBackward(dx.gv, dy.gv, x.gv)
	e.c.GELUBackward(dx.cv, dy.cv, x.cv)
	xs, dys := e.host(x), e.host(dy)
	exactY := func(i int) float64 { v := xs[i]; return v * 0.5 * math.Erfc(-v/math.Sqrt2) }
	exactDX := func(i int) float64 {
		v := xs[i]
		return dys[i] * (0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi))
	}
	dxMag := func(i int) float64 {
		v := xs[i]
		return math.Abs(dys[i]) * (0.5*math.Erfc(-v/math.Sqrt2) + math.Abs(v)*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi))
	}
	// Accuracy of the shader against float64 (Erfc form, exact in both
	// tails): its erf has relative error <= 1.8e-7 (Maclaurin series for
	// |z| <= 1, the Numerical Recipes erfc fit with an exact fma split of z^2
	// above, both checked against float64), so Phi = (1+erf)/2 and its tail
	// form erfc/2 are within 4.7e-7 relative in float32 arithmetic with an
	// exact exp (simulated on the host); x*Phi adds a rounding. exp(-x^2/2)
	// is evaluated without rounding x^2 and with a range-reduced argument
	// (|r| <= 0.35, where WGSL's exp is within 4 ulp): bound 1e-6 relative
	// (lavapipe: worst seen 6e-7, at x < -9). The derivative
	// Phi + x phi(x) cancels near x = -0.75, so its bound is relative to the
	// sum of the magnitudes of the two terms (times |dy|).
	gy, _ := e.read(y)
	gdx, _ := e.read(dx)
	for i := range gy {
		if d := math.Abs(float64(gy[i]) - exactY(i)); d > 1e-6*math.Abs(exactY(i))+1e-37 {
			t.Errorf("gelu(%g) = %g, want %g (rel err %.2g)", xs[i], gy[i], exactY(i), d/math.Abs(exactY(i)))
		}
		if d := math.Abs(float64(gdx[i]) - exactDX(i)); d > 1e-6*dxMag(i)+1e-37 {
			t.Errorf("gelu'(%g)*%g = %g, want %g", xs[i], dys[i], gdx[i], exactDX(i))
		}
	}
	// Parity with engine/cpu: the CPU evaluates 0.5 x (1 + erf(x/sqrt2)) in
	// float64, which cancels in the negative tail (absolute error up to
	// ~1.2e-16 |x|, e.g. gelu(-10) = -0 instead of -7.6e-23), so the bound
	// adds that to the shader's.
	e.expect(y, func(i int) float64 {
		return 1e-6*math.Abs(exactY(i)) + 1.2e-16*math.Abs(xs[i]) + u*math.Abs(exactY(i)) + 1e-37
	})
	e.expect(dx, func(i int) float64 { return 1e-6*dxMag(i) + 1.2e-16*math.Abs(dys[i]) + 1e-37 })
	e.done()
}

func TestMatMul(t *testing.T) {
	// Every tile height (software adapters cap it at 32 by default), with
	// matmul_direct off and on (it takes the products with vec4 loads and
	// K a multiple of 4; software adapters use it by default).
	g := gpuBackend(t)
	defer func(r int, d bool) { _ = g.UseMatmulTileRows(r); g.UseMatmulDirect(d) }(g.MatmulTileRows(), g.MatmulDirect())
	if err := g.UseMatmulTileRows(64); err != nil {
		t.Fatal(err)
	}
	for _, direct := range []bool{false, true} {
		g.UseMatmulDirect(direct)
		t.Run(fmt.Sprintf("direct=%v", direct), testMatMulShapes)
	}
	for variant := 0; variant < 4; variant++ {
		transA, transB := variant&1 != 0, variant&2 != 0
		if _, ok := g.pipelines[g.pipeKeyOf(matmulDirectKernel(transA, transB))]; !ok {
			t.Errorf("no product with transA=%v, transB=%v took matmul_direct", transA, transB)
		}
	}
}

func testMatMulShapes(t *testing.T) {
	type shape struct{ m, n, k int }
	var shapes []shape
	for _, m := range oddSizes {
		for _, n := range []int{1, 17, 65} {
			for _, k := range []int{1, 33, 65} {
				shapes = append(shapes, shape{m, n, k})
			}
		}
	}
	shapes = append(shapes, shape{128, 128, 128}, shape{197, 96, 64}, shape{64, 192, 200}, shape{2, 300, 5}, shape{130, 3, 257}, shape{0, 3, 4}, shape{3, 4, 0},
		// Row lengths that are multiples of 4 (vec4 loads when the view's
		// offset is too; the arena cases place views at random offsets),
		// with the other sizes odd, and every tile height (16, 32, 64).
		shape{17, 64, 36}, shape{36, 20, 12}, shape{65, 8, 68}, shape{4, 4, 4}, shape{20, 36, 100}, shape{1, 12, 8}, shape{33, 44, 4})
	for i, s := range shapes {
		for variant := 0; variant < 4; variant++ {
			transA, transB := variant&1 != 0, variant&2 != 0
			// bias and accumulate cycle through their combinations
			withBias, acc := (i+variant)%2 == 0, (i+variant)%3 == 0
			name := fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v,bias=%v,acc=%v", s.m, s.n, s.k, transA, transB, withBias, acc)
			t.Run(name, func(t *testing.T) {
				arena := 0
				if i%3 == 1 {
					arena = 2*(s.m*s.k+s.k*s.n+s.m*s.n+s.n) + 200
				}
				e := newEnv(t, uint64(i*4+variant), arena)
				// Half the cases place every view at a multiple of 4
				// elements, so shapes with row lengths that are multiples
				// of 4 take the vec4 loads; the others get random offsets.
				e.align4 = (i+variant)%2 == 1
				a := e.uniform("a", s.m*s.k, -1, 1)
				b := e.uniform("b", s.k*s.n, -1, 1)
				c := e.output("c", s.m*s.n)
				var bias *tensor
				gb, cb := backend.View{}, backend.View{}
				if withBias {
					bias = e.uniform("bias", s.n, -1, 1)
					gb, cb = bias.gv, bias.cv
				}
				as, bs, c0 := e.host(a), e.host(b), e.host(c)
				p := backend.MatMul{M: s.m, N: s.n, K: s.k, TransA: transA, TransB: transB, Accumulate: acc}
				e.g.MatMul(c.gv, a.gv, b.gv, gb, p)
				e.c.MatMul(c.cv, a.cv, b.cv, cb, p)
				var bs64 []float64
				if withBias {
					bs64 = e.host(bias)
				}
				// Both backends accumulate in float32: each is within
				// gamma(K) * sum_k |a_ik b_kj| of the exact product, plus one
				// rounding for the bias add and one for the accumulate, so
				// they differ by at most twice that.
				e.expect(c, func(idx int) float64 {
					r, col := idx/s.n, idx%s.n
					var sab float64
					for kk := 0; kk < s.k; kk++ {
						av := as[r*s.k+kk]
						if transA {
							av = as[kk*s.m+r]
						}
						bv := bs[kk*s.n+col]
						if transB {
							bv = bs[col*s.k+kk]
						}
						sab += math.Abs(av * bv)
					}
					extra := 0.0
					if withBias {
						extra += math.Abs(bs64[col])
					}
					if acc {
						extra += math.Abs(c0[idx])
					}
					return 2*gamma(s.k+2)*(sab+extra) + 1e-30
				})
				e.done()
			})
		}
	}
}

// TestMatMulGELU checks the GELU epilogue: c as MatMul, act = gelu(c),
// with matmul_direct off and on.
func TestMatMulGELU(t *testing.T) {
	g := gpuBackend(t)
	defer g.UseMatmulDirect(g.MatmulDirect())
	for _, direct := range []bool{false, true} {
		g.UseMatmulDirect(direct)
		t.Run(fmt.Sprintf("direct=%v", direct), testMatMulGELUShapes)
	}
}

func testMatMulGELUShapes(t *testing.T) {
	for i, s := range [][3]int{{1, 1, 1}, {17, 64, 36}, {65, 768, 192}, {33, 17, 65}, {130, 20, 12}} {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprint(s), func(t *testing.T) {
			e := newEnv(t, uint64(100+i), 0)
			e.align4 = true
			// Products of order 1..3 so GELU's tails and curve are reached.
			a := e.uniform("a", m*k, -1.5, 1.5)
			b := e.uniform("b", n*k, -1.5, 1.5)
			bias := e.uniform("bias", n, -1, 1)
			c, act := e.output("c", m*n), e.output("act", m*n)
			p := backend.MatMul{M: m, N: n, K: k, TransB: true}
			e.g.MatMulGELU(c.gv, act.gv, a.gv, b.gv, bias.gv, p)
			e.c.MatMulGELU(c.cv, act.cv, a.cv, b.cv, bias.cv, p)
			as, bs, bb := e.host(a), e.host(b), e.host(bias)
			tol := func(idx int) float64 {
				r, col := idx/n, idx%n
				sab := math.Abs(bb[col])
				for kk := 0; kk < k; kk++ {
					sab += math.Abs(as[r*k+kk] * bs[col*k+kk])
				}
				return 2*gamma(k+2)*sab + 1e-30
			}
			e.expect(c, tol)
			// |gelu'| <= 1.13, so the pre-activations' difference carries
			// over times 1.13; the shader's GELU is within 1e-6 relative of
			// the exact one (TestGELU) and so is the CPU's.
			cs := e.host(c)
			e.expect(act, func(idx int) float64 {
				v := cs[idx]
				return 1.13*tol(idx) + 2e-6*math.Abs(v*0.5*math.Erfc(-v/math.Sqrt2)) + 1e-30
			})
			e.done()
		})
	}
}

func TestColumnSum(t *testing.T) {
	for i, sh := range [][2]int{{1, 1}, {3, 17}, {17, 33}, {65, 1}, {1000, 65}, {197, 768}} {
		rows, cols := sh[0], sh[1]
		for _, acc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d/acc=%v", rows, cols, acc), func(t *testing.T) {
				e := newEnv(t, uint64(i), 0)
				src := e.uniform("src", rows*cols, -1, 1)
				dst := e.output("dst", cols)
				ss, d0 := e.host(src), e.host(dst)
				e.g.ColumnSum(dst.gv, src.gv, rows, acc)
				e.c.ColumnSum(dst.cv, src.cv, rows, acc)
				// GPU: LANES=8 strided float32 partial sums of rows/8 terms,
				// then 8 partials; CPU: float64 then one rounding.
				e.expect(dst, func(j int) float64 {
					var s float64
					for r := 0; r < rows; r++ {
						s += math.Abs(ss[r*cols+j])
					}
					if acc {
						s += math.Abs(d0[j])
					}
					return gamma(rows/8+12)*s + 1e-30
				})
				e.done()
			})
		}
	}
}

// rowTol is the bound for row statistics computed by one workgroup of WG
// = 128 threads: each thread sums dim/WG terms, then the workgroup
// reduction (reduceChain: 7 levels of the plain tree, 30 for lavapipe's
// subgroups of 8); the mean, the two-pass variance and 1/sqrt add a few
// dependent roundings. Relative to the row's scale, the error in
// (x-mean)*rstd is at most 8 * gamma(dim/WG + chain + 10) (a factor 2 each
// for the mean feeding the variance, the square, and both backends' final
// roundings, ample).
func rowTol(t *testing.T, g *Backend, dim int) float64 {
	return 8 * gamma(dim/128+reduceChain(t, g, 128)+10)
}

func TestLayerNorm(t *testing.T) { reductionForms(t, testLayerNorm) }

func testLayerNorm(t *testing.T) {
	for i, sh := range [][2]int{{1, 1}, {3, 3}, {17, 33}, {5, 65}, {33, 197}, {300, 40}, {4, 768}, {2, 1024}} {
		rows, dim := sh[0], sh[1]
		for _, acc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d/acc=%v", rows, dim, acc), func(t *testing.T) {
				arena := 0
				if i%2 == 0 {
					arena = 6*rows*dim + 4*dim + 4*rows + 500
				}
				e := newEnv(t, uint64(i), arena)
				x := e.uniform("x", rows*dim, -2, 2)
				gamma_ := e.uniform("gamma", dim, 0.5, 1.5)
				beta := e.uniform("beta", dim, -1, 1)
				y, mean, rstd := e.output("y", rows*dim), e.output("mean", rows), e.output("rstd", rows)
				const eps = 1e-6
				e.g.LayerNorm(y.gv, mean.gv, rstd.gv, x.gv, gamma_.gv, beta.gv, rows, dim, eps)
				e.c.LayerNorm(y.cv, mean.cv, rstd.cv, x.cv, gamma_.cv, beta.cv, rows, dim, eps)
				gs, bs := e.host(gamma_), e.host(beta)
				rt := rowTol(t, e.g, dim)
				ms, rs, xs := e.host(mean), e.host(rstd), e.host(x)
				e.expect(mean, func(r int) float64 {
					var s float64
					for j := 0; j < dim; j++ {
						s += math.Abs(xs[r*dim+j])
					}
					return rt*s/float64(dim) + 1e-30
				})
				e.expect(rstd, func(r int) float64 { return rt * math.Abs(rs[r]) })
				e.expect(y, func(idx int) float64 {
					r, j := idx/dim, idx%dim
					xhat := (xs[idx] - ms[r]) * rs[r]
					return rt*(math.Abs(xhat)+1)*math.Abs(gs[j]) + 2*u*math.Abs(bs[j]) + 1e-30
				})

				// Backward from the CPU's saved statistics (identical inputs).
				dy := e.uniform("dy", rows*dim, -1, 1)
				dx := e.output("dx", rows*dim)
				dgamma, dbeta := e.output("dgamma", dim), e.output("dbeta", dim)
				ms32 := make([]float32, rows)
				rs32 := make([]float32, rows)
				for r := range ms32 {
					ms32[r], rs32[r] = float32(ms[r]), float32(rs[r])
				}
				e.g.Write(mean.gv, ms32)
				e.g.Write(rstd.gv, rs32)
				dx0, dys := e.host(dx), e.host(dy)
				e.g.LayerNormBackward(dx.gv, dgamma.gv, dbeta.gv, dy.gv, x.gv, mean.gv, rstd.gv, gamma_.gv, rows, dim, acc)
				e.c.LayerNormBackward(dx.cv, dgamma.cv, dbeta.cv, dy.cv, x.cv, mean.cv, rstd.cv, gamma_.cv, rows, dim, acc)
				// dx = rstd*(g - mean(g) - xhat*mean(g*xhat)): bound each term
				// on absolute values with the row bound.
				e.expect(dx, func(idx int) float64 {
					r := idx / dim
					var sg, sgx float64
					for j := 0; j < dim; j++ {
						xh := (xs[r*dim+j] - ms[r]) * rs[r]
						g := math.Abs(dys[r*dim+j] * gs[j])
						sg += g
						sgx += g * math.Abs(xh)
					}
					xh := math.Abs((xs[idx] - ms[r]) * rs[r])
					mag := rs[r] * (math.Abs(dys[idx]*gs[idx%dim]) + sg/float64(dim) + xh*sgx/float64(dim))
					extra := 0.0
					if acc {
						extra = 2 * u * math.Abs(dx0[idx])
					}
					return rt*(1+xh)*mag + extra + 1e-30
				})
				// dgamma, dbeta: column sums over rows (LANES=8 partials).
				e.expect(dgamma, func(j int) float64 {
					var s float64
					for r := 0; r < rows; r++ {
						s += math.Abs(dys[r*dim+j] * (xs[r*dim+j] - ms[r]) * rs[r])
					}
					return (gamma(rows/8+12)+rt)*s + 1e-30
				})
				e.expect(dbeta, func(j int) float64 {
					var s float64
					for r := 0; r < rows; r++ {
						s += math.Abs(dys[r*dim+j])
					}
					return gamma(rows/8+12)*s + 1e-30
				})
				e.done()
			})
		}
	}
}

func TestPatchify(t *testing.T) {
	for i, sh := range [][5]int{{1, 1, 1, 1, 1}, {2, 3, 8, 8, 4}, {1, 3, 6, 9, 3}, {3, 1, 28, 28, 7}, {2, 3, 32, 48, 16}} {
		b, ch, h, w, p := sh[0], sh[1], sh[2], sh[3], sh[4]
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			e := newEnv(t, uint64(i), 0)
			img := e.uniform("images", b*ch*h*w, 0, 1)
			pt := e.output("patches", b*ch*h*w)
			e.g.Patchify(pt.gv, img.gv, b, ch, h, w, p)
			e.c.Patchify(pt.cv, img.cv, b, ch, h, w, p)
			e.expect(pt, nil) // a permutation: exact
			e.done()
		})
	}
}

// perm returns a random permutation of n as int32.
func (e *env) perm(n int) []int32 {
	p := e.rng.Perm(n)
	out := make([]int32, n)
	for i, v := range p {
		out[i] = int32(v)
	}
	return out
}

func TestTokens(t *testing.T) {
	for i, sh := range [][4]int{{1, 1, 1, 1}, {2, 4, 1, 3}, {3, 17, 5, 33}, {2, 196, 49, 64}, {1, 65, 16, 17}} {
		b, l, k, d := sh[0], sh[1], sh[2], sh[3]
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			arena := 0
			if i%2 == 1 {
				arena = 4*b*(1+l)*d + 2*b*l*d + 4*d + b*l + 500
			}
			e := newEnv(t, uint64(i), arena)
			// Per-sample shuffles as in the MAE masking: ids_shuffle is a
			// permutation, keep its first k, restore is its inverse.
			keep := make([]int32, 0, b*k)
			restore := make([]int32, b*l)
			mask := make([]float32, b*l)
			for s := 0; s < b; s++ {
				sh := e.perm(l)
				keep = append(keep, sh[:k]...)
				for pos, id := range sh {
					restore[s*l+int(id)] = int32(pos)
					if pos >= k {
						mask[s*l+int(id)] = 1
					}
				}
			}
			keepT, restoreT, maskT := e.indices("keep", keep), e.indices("restore", restore), e.tensor("mask", mask)

			emb := e.uniform("emb", b*l*d, -1, 1)
			first := e.uniform("first", d, -1, 1)
			enc := e.output("enc", b*(1+k)*d)
			e.g.GatherTokens(enc.gv, emb.gv, first.gv, keepT.gv, b, l, k, d)
			e.c.GatherTokens(enc.cv, emb.cv, first.cv, keepT.cv, b, l, k, d)
			e.expect(enc, nil) // copies: exact

			dout := e.uniform("dout", b*(1+k)*d, -1, 1)
			demb, dfirst := e.output("demb", b*l*d), e.output("dfirst", d)
			e.g.GatherTokensBackward(demb.gv, dfirst.gv, dout.gv, keepT.gv, b, l, k, d)
			e.c.GatherTokensBackward(demb.cv, dfirst.cv, dout.cv, keepT.cv, b, l, k, d)
			e.expect(demb, nil)
			dos := e.host(dout)
			e.expect(dfirst, func(j int) float64 { // sum of b values
				var s float64
				for r := 0; r < b; r++ {
					s += math.Abs(dos[r*(1+k)*d+j])
				}
				return gamma(b/8+12)*s + 1e-30
			})

			y := e.uniform("y", b*(1+k)*d, -1, 1)
			mt := e.uniform("mask token", d, -1, 1)
			dec := e.output("dec", b*(1+l)*d)
			e.g.Unshuffle(dec.gv, y.gv, mt.gv, restoreT.gv, b, l, k, d)
			e.c.Unshuffle(dec.cv, y.cv, mt.cv, restoreT.cv, b, l, k, d)
			e.expect(dec, nil)

			ddec := e.uniform("ddec", b*(1+l)*d, -1, 1)
			dy, dmt := e.output("dy", b*(1+k)*d), e.output("dmask token", d)
			e.g.UnshuffleBackward(dy.gv, dmt.gv, ddec.gv, keepT.gv, maskT.gv, b, l, k, d)
			e.c.UnshuffleBackward(dy.cv, dmt.cv, ddec.cv, keepT.cv, maskT.cv, b, l, k, d)
			e.expect(dy, nil)
			dds := e.host(ddec)
			e.expect(dmt, func(j int) float64 { // sum over the removed patches
				var s float64
				for q := 0; q < b*l; q++ {
					if mask[q] != 0 {
						s += math.Abs(dds[(q+q/l+1)*d+j])
					}
				}
				return gamma(b*l/8+12)*s + 1e-30
			})
			e.done()
		})
	}
}

func TestAdamW(t *testing.T) {
	for i, n := range []int{1, 3, 1000, 65537} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, uint64(i), map[bool]int{true: 4*n + 200}[i%2 == 1])
			p := e.uniform("params", n, -1, 1)
			g := e.uniform("grads", n, -0.1, 0.1)
			m := e.uniform("m", n, -0.01, 0.01)
			v := e.uniform("v", n, 0, 1e-3)
			ps, gs, ms, vs := e.host(p), e.host(g), e.host(m), e.host(v)
			step := 3
			h := backend.AdamW{LR: 1.5e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05,
				BiasCorr1: float32(1 - math.Pow(0.9, float64(step))), BiasCorr2: float32(1 - math.Pow(0.95, float64(step)))}
			e.g.AdamWStep(p.gv, g.gv, m.gv, v.gv, h)
			e.c.AdamWStep(p.cv, g.cv, m.cv, v.cv, h)
			b1, b2 := float64(h.Beta1), float64(h.Beta2)
			// m and v: two products and a sum, each rounded (the CPU rounds
			// once): 3u relative to the magnitudes of the two terms.
			e.expect(m, func(i int) float64 { return 3 * u * (b1*math.Abs(ms[i]) + (1-b1)*math.Abs(gs[i])) })
			e.expect(v, func(i int) float64 { return 4 * u * (b2*vs[i] + (1-b2)*gs[i]*gs[i]) })
			// p: the decayed parameter (2 roundings) minus the update, whose
			// ~10 roundings (lr/bc1, m, v, sqrt, divisions, eps) are bounded
			// by 16u relative to the update.
			e.expect(p, func(i int) float64 {
				mi := b1*ms[i] + (1-b1)*gs[i]
				vi := b2*vs[i] + (1-b2)*gs[i]*gs[i]
				upd := float64(h.LR) / float64(h.BiasCorr1) * math.Abs(mi) / (math.Sqrt(vi)/math.Sqrt(float64(h.BiasCorr2)) + float64(h.Eps))
				return 3*u*math.Abs(ps[i]) + 16*u*upd
			})
			e.done()
		})
	}
}
