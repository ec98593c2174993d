package cpu

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"webmae/engine/backend"
)

// MatMulGELU implements backend.Kernels: MatMul, then GELU.
func (c *Backend) MatMulGELU(out, act, a, b, bias backend.View, p backend.MatMul) {
	if p.Accumulate || act.Len != out.Len {
		panic(fmt.Sprintf("cpu: matmul+gelu %+v: act %d, c %d (no accumulate)", p, act.Len, out.Len))
	}
	c.MatMul(out, a, b, bias, p)
	c.GELU(act, out)
}

// MatMul implements backend.Kernels: the packed GEMM (gemm.go) when the
// micro-kernel is available, else gonum's Sgemm.
func (c *Backend) MatMul(out, a, b, bias backend.View, p backend.MatMul) {
	if a.Len != p.M*p.K || b.Len != p.K*p.N || out.Len != p.M*p.N || (!bias.Empty() && bias.Len != p.N) {
		panic(fmt.Sprintf("cpu: matmul %+v: sizes a=%d b=%d c=%d bias=%d", p, a.Len, b.Len, out.Len, bias.Len))
	}
	cs := F(out)
	beta := float32(0)
	if p.Accumulate {
		beta = 1
	}
	if !bias.Empty() {
		bs := F(bias)
		for i := 0; i < p.M; i++ {
			row := cs[i*p.N : (i+1)*p.N]
			if p.Accumulate {
				for j := range row {
					row[j] += bs[j]
				}
			} else {
				copy(row, bs)
			}
		}
		beta = 1
	}
	if p.M == 0 || p.N == 0 {
		return
	}
	if p.K == 0 {
		if beta == 0 {
			clear(cs)
		}
		return
	}
	if haveKernel {
		am := matrix{data: F(a), ld: p.K, trans: p.TransA}
		if p.TransA {
			am.ld = p.M
		}
		bm := matrix{data: F(b), ld: p.N, trans: p.TransB}
		if p.TransB {
			bm.ld = p.K
		}
		c.gemm(p.M, p.N, p.K, am, bm, cs, beta != 0)
		return
	}
	as := F(a)
	if p.TransA {
		// gonum's Trans x NoTrans kernel is several times slower than its
		// NoTrans ones at the shapes of weight gradients (K = batch rows
		// >> M, N), so transpose A explicitly: K x M -> M x K.
		t := c.scratch(p.M * p.K)
		defer c.release(t)
		transpose(t, as, p.K, p.M)
		as = t
	}
	tB, ldb := blas.NoTrans, p.N
	if p.TransB {
		tB, ldb = blas.Trans, p.K
	}
	gonum.Implementation{}.Sgemm(blas.NoTrans, tB, p.M, p.N, p.K, 1, as, p.K, F(b), ldb, beta, cs, p.N)
}

// ColumnSum implements backend.Kernels.
func (c *Backend) ColumnSum(dst, src backend.View, rows int, accumulate bool) {
	n := dst.Len
	sameLen("column sum", src.Len, rows*n)
	d, s := F(dst), F(src)
	c.parallel(n, rows, func(lo, hi int) {
		acc := make([]float64, hi-lo)
		for r := 0; r < rows; r++ {
			row := s[r*n+lo : r*n+hi]
			for j, v := range row {
				acc[j] += float64(v)
			}
		}
		for j, v := range acc {
			if accumulate {
				d[lo+j] += float32(v)
			} else {
				d[lo+j] = float32(v)
			}
		}
	})
}

// transpose writes the cols x rows transpose of src (rows x cols) to dst,
// in cache-sized tiles.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}
