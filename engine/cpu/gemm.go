package cpu

import (
	"sync"
)

// Packed GEMM (the BLIS scheme): for each kc-deep slice of the inner
// dimension, B's slice is packed once into 16-column panels; the rows of C
// are split into mc-row blocks shared out among the workers, each packing
// its block of A into 6-row panels and sweeping the 6x16 micro-kernel over
// the block. Packing also absorbs the transposes, so every case of
// backend.MatMul runs the same kernel.
const (
	gemmMR = 6   // rows of the micro-kernel tile
	gemmNR = 16  // columns of the micro-kernel tile (two AVX vectors)
	gemmKC = 256 // depth of one packed slice (A and B panels stay in L1/L2)
	gemmMC = 96  // rows of C per work item (a multiple of gemmMR)
)

// matrix is a row-major matrix view, read transposed when trans is set:
// element (i, j) is data[i*ld+j], or data[j*ld+i] when trans.
type matrix struct {
	data  []float32
	ld    int
	trans bool
}

func (m matrix) at(i, j int) float32 {
	if m.trans {
		return m.data[j*m.ld+i]
	}
	return m.data[i*m.ld+j]
}

// gemm computes c (m x n, row stride n) = or += a (m x k) b (k x n).
func (c *Backend) gemm(m, n, k int, a, b matrix, out []float32, accumulate bool) {
	nPanels := (n + gemmNR - 1) / gemmNR
	bPack := c.scratch(nPanels * gemmNR * min(k, gemmKC))
	defer c.release(bPack)
	mBlocks := (m + gemmMC - 1) / gemmMC
	for p0 := 0; p0 < k; p0 += gemmKC {
		kc := min(gemmKC, k-p0)
		packB(bPack, b, p0, kc, n)
		acc := accumulate || p0 > 0
		workers := min(c.workers, mBlocks)
		if workers <= 1 || m*n*kc < 1<<16 {
			c.gemmBlocks(0, mBlocks, 1, m, n, kc, p0, a, bPack, out, acc)
			continue
		}
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.gemmBlocks(w, mBlocks, workers, m, n, kc, p0, a, bPack, out, acc)
			}()
		}
		wg.Wait()
	}
}

// gemmBlocks runs the mc-row blocks first, first+stride, ... of C.
func (c *Backend) gemmBlocks(first, blocks, stride, m, n, kc, p0 int, a matrix, bPack, out []float32, acc bool) {
	aPack := c.scratch(gemmMC * kc)
	defer c.release(aPack)
	var tile [gemmMR * gemmNR]float32
	accFlag := 0
	if acc {
		accFlag = 1
	}
	for blk := first; blk < blocks; blk += stride {
		i0 := blk * gemmMC
		mc := min(gemmMC, m-i0)
		packA(aPack, a, i0, mc, p0, kc)
		for j0 := 0; j0 < n; j0 += gemmNR {
			nr := min(gemmNR, n-j0)
			bp := bPack[(j0/gemmNR)*gemmNR*kc:]
			for ii := 0; ii < mc; ii += gemmMR {
				mr := min(gemmMR, mc-ii)
				ap := aPack[ii*kc:]
				row := i0 + ii
				if mr == gemmMR && nr == gemmNR {
					kernel6x16(kc, &ap[0], &bp[0], &out[row*n+j0], n, accFlag)
					continue
				}
				// Edge tile: compute the full tile aside, keep the valid part.
				kernel6x16(kc, &ap[0], &bp[0], &tile[0], gemmNR, 0)
				for r := 0; r < mr; r++ {
					dst := out[(row+r)*n+j0 : (row+r)*n+j0+nr]
					src := tile[r*gemmNR : r*gemmNR+nr]
					if acc {
						for j := range dst {
							dst[j] += src[j]
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
}

// packA packs rows [i0, i0+mc) x depth [p0, p0+kc) of a into 6-row panels:
// panel r holds, for each p, the 6 values a(i0+6r+0..5, p0+p), zero-padded
// past the last row.
func packA(dst []float32, a matrix, i0, mc, p0, kc int) {
	o := 0
	for ii := 0; ii < mc; ii += gemmMR {
		mr := min(gemmMR, mc-ii)
		if !a.trans {
			for p := 0; p < kc; p++ {
				for r := 0; r < mr; r++ {
					dst[o+r] = a.data[(i0+ii+r)*a.ld+p0+p]
				}
				for r := mr; r < gemmMR; r++ {
					dst[o+r] = 0
				}
				o += gemmMR
			}
			continue
		}
		for p := 0; p < kc; p++ {
			src := a.data[(p0+p)*a.ld+i0+ii:]
			copy(dst[o:o+mr], src[:mr])
			for r := mr; r < gemmMR; r++ {
				dst[o+r] = 0
			}
			o += gemmMR
		}
	}
}

// packB packs depth [p0, p0+kc) x all n columns of b into 16-column
// panels: panel q holds, for each p, the 16 values b(p0+p, 16q+0..15),
// zero-padded past the last column.
func packB(dst []float32, b matrix, p0, kc, n int) {
	o := 0
	for j0 := 0; j0 < n; j0 += gemmNR {
		nr := min(gemmNR, n-j0)
		if !b.trans {
			for p := 0; p < kc; p++ {
				copy(dst[o:o+nr], b.data[(p0+p)*b.ld+j0:])
				for j := nr; j < gemmNR; j++ {
					dst[o+j] = 0
				}
				o += gemmNR
			}
			continue
		}
		for p := 0; p < kc; p++ {
			for j := 0; j < nr; j++ {
				dst[o+j] = b.data[(j0+j)*b.ld+p0+p]
			}
			for j := nr; j < gemmNR; j++ {
				dst[o+j] = 0
			}
			o += gemmNR
		}
	}
}
