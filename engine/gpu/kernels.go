package gpu

import (
	"fmt"
	"math"
	"strings"

	"webmae/engine/backend"
)

// Kernel definitions: file, entry point, storage slots (see shaders/).
var (
	kZero         = kernel{file: "elementwise.wgsl", entry: "zero", slots: 2}
	kCopy         = kernel{file: "elementwise.wgsl", entry: "copy", slots: 2}
	kAdd          = kernel{file: "elementwise.wgsl", entry: "add", slots: 2}
	kAddBroadcast = kernel{file: "elementwise.wgsl", entry: "add_broadcast", slots: 2}
	kGELU         = kernel{file: "gelu.wgsl", entry: "gelu", slots: 3}
	kGELUBackward = kernel{file: "gelu.wgsl", entry: "gelu_backward", slots: 3}
	kColumnSum    = kernel{file: "reduce.wgsl", entry: "column_sum", slots: 2}
	kLayerNorm    = kernel{file: "layernorm.wgsl", entry: "layernorm", slots: 7, ro: readOnly(5, 6)}
	kLayerNormDX  = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_dx", slots: 7, ro: readOnly(5, 6)}
	kLayerNormDP  = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_params", slots: 7, ro: readOnly(5, 6)}
	kLayerNormR   = kernel{file: "layernorm.wgsl", entry: "layernorm_rows", slots: 7, ro: readOnly(5, 6)}
	kLayerNormDXR = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_dx_rows", slots: 7, ro: readOnly(5, 6)}
	kAttention    = kernel{file: "attention.wgsl", entry: "attention_forward", slots: 5}
	kAttentionDQ  = kernel{file: "attention.wgsl", entry: "attention_backward_q", slots: 5}
	kAttentionDKV = kernel{file: "attention.wgsl", entry: "attention_backward_kv", slots: 5}
	kPatchify     = kernel{file: "patchify.wgsl", entry: "patchify", slots: 2}
	kGather       = kernel{file: "tokens.wgsl", entry: "gather_tokens", slots: 5}
	kScatter      = kernel{file: "tokens.wgsl", entry: "scatter_tokens", slots: 5}
	kUnshuffle    = kernel{file: "tokens.wgsl", entry: "unshuffle", slots: 5}
	kUnshuffleBwd = kernel{file: "tokens.wgsl", entry: "unshuffle_backward", slots: 5}
	kMaskTokenSum = kernel{file: "tokens.wgsl", entry: "masked_token_sum", slots: 5}
	kNormalize    = kernel{file: "loss.wgsl", entry: "normalize_patches", slots: 5}
	kMSERows      = kernel{file: "loss.wgsl", entry: "masked_mse_rows", slots: 5}
	kMSETotal     = kernel{file: "loss.wgsl", entry: "masked_mse_total", slots: 5}
	kMSEBackward  = kernel{file: "loss.wgsl", entry: "masked_mse_backward", slots: 5}
	kAdamW        = kernel{file: "adamw.wgsl", entry: "adamw", slots: 4}
)

// matmulKernel returns the matmul specialisation for the transposes and
// the tile height bm (64, the file's own, or 32 or 16 for short products).
func matmulKernel(transA, transB bool, bm int) kernel {
	k := kernel{file: "matmul.wgsl", entry: "matmul", slots: 5, ro: readOnly(2, 3, 4)}
	var spec []string
	if transA {
		spec = append(spec, "TRANS_A")
	}
	if transB {
		spec = append(spec, "TRANS_B")
	}
	if bm != matmulBM {
		// WG_Y = BM / TM rows of threads, THREADS = WG_X * WG_Y.
		spec = append(spec, fmt.Sprintf("BM=%d,WG_Y=%d,THREADS=%d", bm, bm/4, 16*bm/4))
	}
	k.spec = strings.Join(spec, ",")
	return k
}

// matmulBM is matmul.wgsl's own tile height; matmulTileRows picks the
// height for an M-row product among 64, 32 and 16: the one with the least
// padded rows ceil(M/bm)*bm, weighted by 1 + BK/bm for the B slab each
// workgroup stages (BK = 16), ties to the taller tile. A 1-image
// reconstruction (17 encoder, 65 decoder rows for tiny) takes 32 instead of
// padding to 64 and 128; batches of hundreds of rows keep 64.
const matmulBM = 64

func matmulTileRows(m int) int {
	best, bestCost := matmulBM, 0.0
	for _, bm := range []int{64, 32, 16} {
		cost := float64(ceilDiv(m, bm)*bm) * (1 + 16/float64(bm))
		if bm == matmulBM || cost < bestCost {
			best, bestCost = bm, cost
		}
	}
	return best
}

// allKernels lists every pipeline (for Warm).
func allKernels() []kernel {
	return []kernel{kZero, kCopy, kAdd, kAddBroadcast, kGELU, kGELUBackward, kColumnSum,
		kLayerNorm, kLayerNormDX, kLayerNormDP, kLayerNormR, kLayerNormDXR, kAttention, kAttentionDQ, kAttentionDKV,
		kPatchify, kGather, kScatter, kUnshuffle, kUnshuffleBwd, kMaskTokenSum,
		kNormalize, kMSERows, kMSETotal, kMSEBackward, kAdamW,
		matmulKernel(false, false, matmulBM), matmulKernel(true, false, matmulBM), matmulKernel(false, true, matmulBM), matmulKernel(true, true, matmulBM)}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func sameLen(what string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("gpu: %s: length %d != %d", what, a, b))
	}
}

// elementwise dispatches a one-thread-per-element kernel over views of n
// elements each (views[0] is the output), in chunks that fit one storage
// binding window each; step is a multiple every chunk start must have
// (AddBroadcast's row length). set appends the parameters that follow the
// views' offsets.
func (b *Backend) elementwise(k kernel, n, step int, views []backend.View, params func(c *call, off, m int)) {
	chunk := max(b.chunk/step*step, step)
	for off := 0; off < n; off += chunk {
		m := min(chunk, n-off)
		c := b.newCall(k)
		if c == nil {
			return
		}
		c.u(m)
		for i, v := range views {
			b.view(c, i+1, v.Sub(off, m), k.entry)
		}
		if params != nil {
			params(c, off, m)
		}
		b.dispatch(c, b.grid1(c, m))
	}
}

// grid1 returns the grid of a kernel with WG threads, one element each.
func (b *Backend) grid1(c *call, n int) dims {
	return b.grid(ceilDiv(n, c.p.constant("WG")))
}

// Zero implements backend.Kernels.
func (b *Backend) Zero(dst backend.View) {
	b.buffer(dst, "zero")
	b.elementwise(kZero, dst.Len, 1, []backend.View{dst}, func(c *call, _, _ int) { c.u(0, 0) })
}

// Copy implements backend.Kernels.
func (b *Backend) Copy(dst, src backend.View) {
	sameLen("copy", dst.Len, src.Len)
	b.elementwise(kCopy, dst.Len, 1, []backend.View{dst, src}, func(c *call, _, _ int) { c.u(0) })
}

// Add implements backend.Kernels.
func (b *Backend) Add(dst, src backend.View) {
	sameLen("add", dst.Len, src.Len)
	b.elementwise(kAdd, dst.Len, 1, []backend.View{dst, src}, func(c *call, _, _ int) { c.u(0) })
}

// AddBroadcast implements backend.Kernels.
func (b *Backend) AddBroadcast(dst, src backend.View, outer int) {
	n := src.Len
	sameLen("add broadcast", dst.Len, outer*n)
	if n == 0 || outer == 0 {
		return
	}
	chunk := max(b.chunk/n*n, n)
	for off := 0; off < dst.Len; off += chunk {
		m := min(chunk, dst.Len-off)
		c := b.newCall(kAddBroadcast)
		if c == nil {
			return
		}
		c.u(m)
		b.view(c, 1, dst.Sub(off, m), "add broadcast")
		b.view(c, 2, src, "add broadcast")
		c.u(n)
		b.dispatch(c, b.grid1(c, m))
	}
}

// GELU implements backend.Kernels.
func (b *Backend) GELU(y, x backend.View) {
	sameLen("gelu", y.Len, x.Len)
	b.elementwise(kGELU, x.Len, 1, []backend.View{y, x}, func(c *call, _, _ int) { c.u(0) })
}

// GELUBackward implements backend.Kernels.
func (b *Backend) GELUBackward(dx, dy, x backend.View) {
	sameLen("gelu backward", dx.Len, x.Len)
	sameLen("gelu backward", dy.Len, x.Len)
	b.elementwise(kGELUBackward, x.Len, 1, []backend.View{dx, x, dy}, nil)
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
	k := matmulKernel(p.TransA, p.TransB, matmulTileRows(p.M))
	c := b.newCall(k)
	if c == nil {
		return
	}
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
	c.u(p.M, p.N, p.K, flags)
	b.bindOptional(c, k, []backend.View{out, a, bm, bias, act})
	b.dispatch(c, dims{ceilDiv(p.N, c.p.constant("BN")), ceilDiv(p.M, c.p.constant("BM"))})
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
	c.u(rows, dst.Len, stride, flags)
	b.view(c, 1, dst, "column sum dst")
	b.view(c, 2, src, "column sum src")
	b.dispatch(c, dims{ceilDiv(dst.Len, c.p.constant("COLS")), 1})
}

// ColumnSum implements backend.Kernels.
func (b *Backend) ColumnSum(dst, src backend.View, rows int, accumulate bool) {
	sameLen("column sum", src.Len, rows*dst.Len)
	b.columnSum(dst, src, rows, dst.Len, accumulate)
}

// layerNormCall starts a layernorm.wgsl dispatch with its parameter block:
// rows, dim, eps, flags, then the views out, x, mean, rstd, gamma, beta, dy
// (empty views bind nothing and pass offset 0).
func (b *Backend) layerNormCall(k kernel, rows, dim int, eps float32, flags int, views [7]backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u(rows, dim)
	c.f(eps)
	c.u(flags)
	b.bindOptional(c, k, views[:])
	return c
}

// bindOptional binds views to slots 1, 2, ... of c in order; an empty
// view binds nothing and passes element offset 0 in its uniform slot.
func (b *Backend) bindOptional(c *call, k kernel, views []backend.View) {
	for i, v := range views {
		if v.Empty() {
			c.u(0)
			continue
		}
		b.view(c, i+1, v, k.entry)
	}
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
		c := b.layerNormCall(kLayerNormR, rows, dim, eps, 0, [7]backend.View{y, x, mean, rstd, gamma, beta, {}})
		b.dispatch(c, b.grid1(c, rows))
		return
	}
	c := b.layerNormCall(kLayerNorm, rows, dim, eps, 0, [7]backend.View{y, x, mean, rstd, gamma, beta, {}})
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
		c := b.layerNormCall(kLayerNormDXR, rows, dim, 0, flags, [7]backend.View{dx, x, mean, rstd, gamma, {}, dy})
		b.dispatch(c, b.grid1(c, rows))
	} else {
		c := b.layerNormCall(kLayerNormDX, rows, dim, 0, flags, [7]backend.View{dx, x, mean, rstd, gamma, {}, dy})
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
	c := b.newCall(kLayerNormDP)
	if c == nil {
		return
	}
	c.u(rows, dim)
	c.f(0)
	c.u(flags)
	b.view(c, 1, out, "layernorm backward params")
	base := int(c.params[c.n-1])
	c.params[c.n-1] += uint32(gOff)
	b.view(c, 2, x, "layernorm backward params")
	b.view(c, 3, mean, "layernorm backward params")
	b.view(c, 4, rstd, "layernorm backward params")
	c.u(0)           // gamma: unused
	c.u(base + bOff) // dbeta: in binding 1 as well
	b.view(c, 7, dy, "layernorm backward params")
	b.dispatch(c, dims{ceilDiv(dim, c.p.constant("COLS")), 1})
}

// covering returns the view spanning a and b when both are views of one
// buffer.
func covering(a, b backend.View) (backend.View, bool) {
	if a.Buf != b.Buf {
		return backend.View{}, false
	}
	lo, hi := min(a.Off, b.Off), max(a.Off+a.Len, b.Off+b.Len)
	return backend.View{Buf: a.Buf, Off: lo, Len: hi - lo}, true
}

// attentionSpec sizes the workgroup-memory rows of attention.wgsl to the
// sequence: MAX_T and MAX_HD become the next powers of two of t and hd
// (at least 32 and 16), MAX_T at most maxRows (longer sequences take the
// shader's chunked online-softmax paths), MAX_HD at most the file's own
// value. Software adapters (SwiftShader) zero-initialise every workgroup's
// memory: rows sized for 1024 tokens make the short MAE sequences two times
// slower there. Each size is its own pipeline, compiled on first use.
func attentionSpec(k kernel, t, hd, maxRows int) kernel {
	pow2 := func(n, lo int) int {
		p := lo
		for p < n {
			p *= 2
		}
		return p
	}
	mt, mh := min(pow2(t, 32), maxRows), pow2(hd, 16)
	if mh > attentionMaxHD {
		return k // too wide: the default sizes report the limit
	}
	k.spec = fmt.Sprintf("MAX_T=%d,MAX_HD=%d", mt, mh)
	return k
}

// The row sizes attention.wgsl declares (its largest).
const (
	attentionMaxT  = 1024
	attentionMaxHD = 256
)

// attentionCall starts an attention.wgsl dispatch: b, t, h, hd, scale, then
// the views out/dqkv, qkv, probs, dout, dsum.
func (b *Backend) attentionCall(k kernel, bs, t, heads, hd int, views [5]backend.View) *call {
	k = attentionSpec(k, t, hd, b.attentionRows)
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	if hd > c.p.constant("MAX_HD") {
		b.fail(fmt.Errorf("gpu: attention with head size %d: the kernel holds head vectors of at most %d features in workgroup memory",
			hd, c.p.constant("MAX_HD")))
		return nil
	}
	c.u(bs, t, heads, hd)
	c.f(float32(1 / math.Sqrt(float64(hd))))
	b.bindOptional(c, k, views[:])
	return c
}

func checkAttention(out, qkv, probs backend.View, b, t, heads, hd int) {
	if qkv.Len != b*t*3*heads*hd || probs.Len != b*heads*t*t || out.Len != b*t*heads*hd {
		panic(fmt.Sprintf("gpu: attention b=%d t=%d heads=%d hd=%d: qkv %d probs %d out %d", b, t, heads, hd, qkv.Len, probs.Len, out.Len))
	}
}

// Attention implements backend.Kernels: one workgroup per (sample, head,
// query row).
func (b *Backend) Attention(out, probs, qkv backend.View, bs, t, heads, hd int) {
	checkAttention(out, qkv, probs, bs, t, heads, hd)
	if qkv.Len == 0 {
		return
	}
	c := b.attentionCall(kAttention, bs, t, heads, hd, [5]backend.View{out, qkv, probs, {}, {}})
	b.dispatch(c, b.grid(bs*heads*t))
}

// AttentionBackward implements backend.Kernels: a row-parallel dispatch for
// dq (saving D_i = sum_j P_ij dP_ij in a scratch buffer) and a
// column-parallel one for dk and dv.
func (b *Backend) AttentionBackward(dqkv, dout, qkv, probs backend.View, bs, t, heads, hd int) {
	checkAttention(dout, qkv, probs, bs, t, heads, hd)
	sameLen("attention backward dqkv", dqkv.Len, qkv.Len)
	if qkv.Len == 0 {
		return
	}
	dsum := backend.View{Buf: b.scratchBuffer("attention dsum", bs*heads*t), Len: bs * heads * t}
	c := b.attentionCall(kAttentionDQ, bs, t, heads, hd, [5]backend.View{dqkv, qkv, probs, dout, dsum})
	b.dispatch(c, b.grid(bs*heads*t))
	c = b.attentionCall(kAttentionDKV, bs, t, heads, hd, [5]backend.View{dqkv, qkv, probs, dout, dsum})
	b.dispatch(c, b.grid(bs*heads*t))
}

// Patchify implements backend.Kernels.
func (b *Backend) Patchify(patches, images backend.View, bs, ch, h, w, p int) {
	if p <= 0 || h%p != 0 || w%p != 0 || images.Len != bs*ch*h*w || patches.Len != bs*ch*h*w {
		panic(fmt.Sprintf("gpu: patchify b=%d c=%d h=%d w=%d p=%d: images %d patches %d", bs, ch, h, w, p, images.Len, patches.Len))
	}
	if patches.Len == 0 {
		return
	}
	c := b.newCall(kPatchify)
	if c == nil {
		return
	}
	c.u(patches.Len, ch, h, w, p)
	b.view(c, 1, patches, "patchify patches")
	b.view(c, 2, images, "patchify images")
	b.dispatch(c, b.grid1(c, patches.Len))
}

// tokenCall starts a tokens.wgsl dispatch: b, l, k, d, n, then the views
// out, src, first, idx, mask.
func (b *Backend) tokenCall(k kernel, bs, l, kk, d, n int, views [5]backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u(bs, l, kk, d, n)
	b.bindOptional(c, k, views[:])
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

// lossCall starts a loss.wgsl dispatch: rows, l, dim, n, scale, then the
// views out, pred, target, mask, rowloss.
func (b *Backend) lossCall(k kernel, rows, l, dim, n int, scale float32, views [5]backend.View) *call {
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	c.u(rows, l, dim, n)
	c.f(scale)
	b.bindOptional(c, k, views[:])
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

// AdamWStep implements backend.Kernels (chunked over views larger than a
// storage binding).
func (b *Backend) AdamWStep(params, grads, m, v backend.View, h backend.AdamW) {
	sameLen("adamw grads", grads.Len, params.Len)
	sameLen("adamw m", m.Len, params.Len)
	sameLen("adamw v", v.Len, params.Len)
	b.elementwise(kAdamW, params.Len, 1, []backend.View{params, grads, m, v}, func(c *call, _, _ int) {
		c.f(h.LR, h.Beta1, h.Beta2, h.Eps, h.WeightDecay, h.BiasCorr1, h.BiasCorr2)
	})
}
