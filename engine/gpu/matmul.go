package gpu

import (
	"fmt"
	"strings"

	"webmae/engine/backend"
)

// matmulKernel returns the matmul specialisation for the transposes and
// the tile height bm (64, the file's own, or 32 or 16 for short products).
func matmulKernel(transA, transB bool, bm int) kernel {
	k := kernel{file: "matmul.wgsl", entry: "matmul"}
	var spec []string
	if transA {
		spec = append(spec, "TRANS_A")
	}
	if transB {
		spec = append(spec, "TRANS_B")
	}
	if bm != matmulBM {
		// WG_Y = BM / TM rows of threads, THREADS = WG_X * WG_Y (TM = 8,
		// WG_X = BN / TN = 8).
		spec = append(spec, fmt.Sprintf("BM=%d,WG_Y=%d,THREADS=%d", bm, bm/8, 8*bm/8))
	}
	k.spec = strings.Join(spec, ",")
	return k
}

// matmulBM is matmul.wgsl's own tile height; matmulTileRows picks the
// height for an M-row product among 64, 32 and 16, at most maxBM: the one
// with the least padded rows ceil(M/bm)*bm, weighted by 1 + BK/bm for the B
// slab each workgroup stages (BK = 16), ties to the taller tile. A 1-image
// reconstruction (17 encoder, 65 decoder rows for tiny) takes 32 instead of
// padding to 64 and 128; batches of hundreds of rows keep 64 on GPUs.
// Software adapters cap it at 32 (matmulMaxRows).
const matmulBM = 64

func matmulTileRows(m, maxBM int) int {
	best, bestCost := 0, 0.0
	for _, bm := range []int{64, 32, 16} {
		if bm > maxBM {
			continue
		}
		cost := float64(ceilDiv(m, bm)*bm) * (1 + 16/float64(bm))
		if best == 0 || cost < bestCost {
			best, bestCost = bm, cost
		}
	}
	return best
}

// matmulMaxRows is the tallest matmul tile on an adapter: 64 rows (64
// threads) on GPUs, 32 (32 threads) on software adapters, which run a
// workgroup's invocations a few SIMD lanes at a time on one CPU thread and
// switch between them at each of the K loop's barriers; the smaller
// workgroups measured faster there (SwiftShader, the 224-px default's
// reconstruction: 483 ms with 32 rows, 529 ms with 64, 527 ms with 16).
func matmulMaxRows(info Info) int {
	if info.software() {
		return 32
	}
	return matmulBM
}

// UseMatmulTileRows caps the matmul tile height (16, 32 or 64 rows) for
// the products recorded from now on; the default is matmulMaxRows's.
// Tests and /bench use it to run and measure both choices on one adapter.
func (b *Backend) UseMatmulTileRows(maxRows int) error {
	if maxRows != 16 && maxRows != 32 && maxRows != 64 {
		return fmt.Errorf("gpu: matmul tiles of at most %d rows: want 16, 32 or 64", maxRows)
	}
	b.matmulRows = maxRows
	return nil
}

// MatmulTileRows is the tallest matmul tile now.
func (b *Backend) MatmulTileRows() int { return b.matmulRows }

// matmulDirectKernel is matmul.wgsl's product without workgroup memory
// (matmul_direct) for the transposes: software adapters take it whenever
// both operands can be read as vec4 and K is a multiple of 4.
func matmulDirectKernel(transA, transB bool) kernel {
	k := matmulKernel(transA, transB, matmulBM)
	k.entry = "matmul_direct"
	return k
}

// UseMatmulDirect turns matmul_direct on or off for the products recorded
// from now on; it is on by default on software adapters (Info.software),
// where it runs faster and compiles in a fraction of the tiled kernel's
// time (README), and off on GPUs, which need the tiles' workgroup memory.
// Tests and /bench use it to run and measure both kernels on one adapter.
func (b *Backend) UseMatmulDirect(on bool) { b.matmulDirect = on }

// MatmulDirect reports whether matmul_direct is in use.
func (b *Backend) MatmulDirect() bool { return b.matmulDirect }

// takesDirect reports whether product p with matmul.wgsl's flags runs as
// matmul_direct: both vec4 bits (2 and 3) set and K a multiple of 4.
func (b *Backend) takesDirect(p backend.MatMul, flags int) bool {
	return b.matmulDirect && flags&12 == 12 && p.K%4 == 0
}

// matmulFor is the kernel of product p when its views' offsets are
// multiples of 4 (those of the model's buffers are).
func (b *Backend) matmulFor(p backend.MatMul) kernel {
	if b.takesDirect(p, matmulFlags(backend.View{}, backend.View{}, backend.View{}, backend.View{}, p)) {
		return matmulDirectKernel(p.TransA, p.TransB)
	}
	return matmulKernel(p.TransA, p.TransB, matmulTileRows(p.M, b.matmulRows))
}

// MatMul implements backend.Kernels.
func (b *Backend) MatMul(out, a, bm, bias backend.View, p backend.MatMul) {
	b.matmul(out, backend.View{}, a, bm, bias, p)
}

// MatMulGELU implements backend.Kernels: the product's epilogue writes both
// the pre-activation and its GELU. Outputs in one buffer (two writable
// bindings of a buffer are refused) take MatMul then GELU instead.
func (b *Backend) MatMulGELU(out, act, a, bm, bias backend.View, p backend.MatMul) {
	if p.Accumulate || act.Len != out.Len {
		panic(fmt.Sprintf("gpu: matmul+gelu %+v: act %d, c %d (no accumulate)", p, act.Len, out.Len))
	}
	if act.Buf == out.Buf {
		b.MatMul(out, a, bm, bias, p)
		b.GELU(act, out)
		return
	}
	b.matmul(out, act, a, bm, bias, p)
}

// matmul dispatches matmul.wgsl; act, when not empty, receives gelu(C).
func (b *Backend) matmul(out, act, a, bm, bias backend.View, p backend.MatMul) {
	if p.M < 0 || p.N < 0 || p.K < 0 || a.Len != p.M*p.K || bm.Len != p.K*p.N || out.Len != p.M*p.N || (!bias.Empty() && bias.Len != p.N) {
		panic(fmt.Sprintf("gpu: matmul %+v: sizes a=%d b=%d c=%d bias=%d", p, a.Len, bm.Len, out.Len, bias.Len))
	}
	if p.M == 0 || p.N == 0 {
		return
	}
	flags := matmulFlags(act, a, bm, bias, p)
	k := matmulKernel(p.TransA, p.TransB, matmulTileRows(p.M, b.matmulRows))
	direct := b.takesDirect(p, flags)
	if direct {
		k = matmulDirectKernel(p.TransA, p.TransB)
	}
	c := b.newCall(k)
	if c == nil {
		return
	}
	c.u("m", p.M)
	c.u("n", p.N)
	c.u("k", p.K)
	c.u("flags", flags)
	b.bindViews(c, out, a, bm, bias, act)
	if direct {
		tm, tn := c.p.constant("TM"), c.p.constant("TN")
		b.dispatch(c, dims{ceilDiv(p.N, tn*c.p.constant("DIRECT_THREADS")), ceilDiv(p.M, tm)})
		return
	}
	b.dispatch(c, dims{ceilDiv(p.N, c.p.constant("BN")), ceilDiv(p.M, c.p.constant("BM"))})
}

// matmulFlags is matmul.wgsl's flags word for a product: bias (bit 0),
// accumulate (1), vec4 loads of A (2) and B (3), GELU epilogue (4).
func matmulFlags(act, a, bm, bias backend.View, p backend.MatMul) int {
	flags := 0
	if !bias.Empty() {
		flags |= 1
	}
	if p.Accumulate {
		flags |= 2
	}
	// vec4 loads along the stored rows when their length and the view's
	// offset are multiples of 4 (binding windows start at multiples of
	// 256 bytes, so the offset inside the binding is too).
	rowA, rowB := p.K, p.N
	if p.TransA {
		rowA = p.M
	}
	if p.TransB {
		rowB = p.K
	}
	if rowA%4 == 0 && a.Off%4 == 0 {
		flags |= 4
	}
	if rowB%4 == 0 && bm.Off%4 == 0 {
		flags |= 8
	}
	if !act.Empty() {
		flags |= 16
	}
	return flags
}

// columnSum dispatches dst[j] (+)= sum_r src[r*stride + j] for j < dst.Len.
func (b *Backend) columnSum(dst, src backend.View, rows, stride int, accumulate bool) {
	if dst.Len == 0 {
		return
	}
	c := b.newCall(kColumnSum)
	if c == nil {
		return
	}
	flags := 0
	if accumulate {
		flags = 1
	}
	c.u("rows", rows)
	c.u("cols", dst.Len)
	c.u("stride", stride)
	c.u("flags", flags)
	b.bindViews(c, dst, src)
	b.dispatch(c, dims{ceilDiv(dst.Len, c.p.constant("COLS")), 1})
}

// ColumnSum implements backend.Kernels.
func (b *Backend) ColumnSum(dst, src backend.View, rows int, accumulate bool) {
	sameLen("column sum", src.Len, rows*dst.Len)
	b.columnSum(dst, src, rows, dst.Len, accumulate)
}
