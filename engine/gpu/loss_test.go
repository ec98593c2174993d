package gpu

import (
	"fmt"
	"math"
	"testing"
)

func TestNormalizePatches(t *testing.T) { reductionForms(t, testNormalizePatches) }

func testNormalizePatches(t *testing.T) {
	for i, sh := range [][2]int{{1, 2}, {3, 3}, {17, 48}, {65, 192}, {4, 768}} {
		rows, dim := sh[0], sh[1]
		t.Run(fmt.Sprint(rows, "x", dim), func(t *testing.T) {
			e := newEnv(t, uint64(i), 0)
			x := e.uniform("x", rows*dim, -1, 3)
			dst := e.output("dst", rows*dim)
			e.g.NormalizePatches(dst.gv, x.gv, rows, dim)
			e.c.NormalizePatches(dst.cv, x.cv, rows, dim)
			ds := e.host(dst)
			// Like LayerNorm's y; the inputs have mean ~1 and std ~1, so
			// cancellation in x - mean costs at most a factor 3.
			rt := rowTol(t, e.g, dim)
			e.expect(dst, func(idx int) float64 { return 3*rt*(math.Abs(ds[idx])+1) + 1e-30 })
			e.done()
		})
	}
}

func TestMaskedMSE(t *testing.T) { reductionForms(t, testMaskedMSE) }

func testMaskedMSE(t *testing.T) {
	for i, sh := range [][3]int{{1, 1, 1}, {2, 4, 3}, {3, 17, 48}, {2, 196, 768}, {4, 49, 16}} {
		b, l, dim := sh[0], sh[1], sh[2]
		t.Run(fmt.Sprint(sh), func(t *testing.T) {
			e := newEnv(t, uint64(i), 0)
			mask := make([]float32, b*l)
			masked := 0
			for q := range mask {
				if e.rng.Float64() < 0.75 || q == 0 {
					mask[q] = 1
					masked++
				}
			}
			m := e.tensor("mask", mask)
			pred := e.uniform("pred", b*(1+l)*dim, -1, 1)
			target := e.uniform("target", b*l*dim, -1, 1)
			loss := e.output("loss", 1)
			e.g.MaskedMSE(loss.gv, pred.gv, target.gv, m.gv, b, l, dim, float32(masked))
			e.c.MaskedMSE(loss.cv, pred.cv, target.cv, m.cv, b, l, dim, float32(masked))
			ls := e.host(loss)
			// A sum of positive terms: the relative error is bounded by the
			// chain length: the subtraction and square (2), the row
			// reduction (dim/128 + chain), the mean, the total (rows/128 +
			// chain), the scale.
			chain := reduceChain(t, e.g, 128)
			e.expect(loss, func(int) float64 { return gamma(dim/128+b*l/128+2*chain+6) * ls[0] })

			dpred := e.output("dpred", b*(1+l)*dim)
			e.g.MaskedMSEBackward(dpred.gv, pred.gv, target.gv, m.gv, b, l, dim, float32(masked), 0.5)
			e.c.MaskedMSEBackward(dpred.cv, pred.cv, target.cv, m.cv, b, l, dim, float32(masked), 0.5)
			ds := e.host(dpred)
			// coef rounded once, then a subtraction and two products.
			e.expect(dpred, func(idx int) float64 { return 5*u*math.Abs(ds[idx]) + 1e-30 })
			e.done()
		})
	}
}
