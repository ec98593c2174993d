package gpu

import (
	"fmt"

	"webmae/engine/backend"
)

// Kernel definitions: file and entry point (bindings and uniform fields are
// read from the file, see contract.go).
var (
	kZero         = kernel{file: "elementwise.wgsl", entry: "zero"}
	kCopy         = kernel{file: "elementwise.wgsl", entry: "copy"}
	kAdd          = kernel{file: "elementwise.wgsl", entry: "add"}
	kAddBroadcast = kernel{file: "elementwise.wgsl", entry: "add_broadcast"}
	kGELU         = kernel{file: "gelu.wgsl", entry: "gelu"}
	kGELUBackward = kernel{file: "gelu.wgsl", entry: "gelu_backward"}
	kColumnSum    = kernel{file: "reduce.wgsl", entry: "column_sum"}
	kLayerNorm    = kernel{file: "layernorm.wgsl", entry: "layernorm"}
	kLayerNormDX  = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_dx"}
	kLayerNormDP  = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_params"}
	kLayerNormR   = kernel{file: "layernorm.wgsl", entry: "layernorm_rows"}
	kLayerNormDXR = kernel{file: "layernorm.wgsl", entry: "layernorm_backward_dx_rows"}
	kAttention    = kernel{file: "attention.wgsl", entry: "attention_forward"}
	kAttentionDQ  = kernel{file: "attention.wgsl", entry: "attention_backward_q"}
	kAttentionDKV = kernel{file: "attention.wgsl", entry: "attention_backward_kv"}
	kPatchify     = kernel{file: "patchify.wgsl", entry: "patchify"}
	kGather       = kernel{file: "tokens.wgsl", entry: "gather_tokens"}
	kScatter      = kernel{file: "tokens.wgsl", entry: "scatter_tokens"}
	kUnshuffle    = kernel{file: "tokens.wgsl", entry: "unshuffle"}
	kUnshuffleBwd = kernel{file: "tokens.wgsl", entry: "unshuffle_backward"}
	kMaskTokenSum = kernel{file: "tokens.wgsl", entry: "masked_token_sum"}
	kNormalize    = kernel{file: "loss.wgsl", entry: "normalize_patches"}
	kMSERows      = kernel{file: "loss.wgsl", entry: "masked_mse_rows"}
	kMSETotal     = kernel{file: "loss.wgsl", entry: "masked_mse_total"}
	kMSEBackward  = kernel{file: "loss.wgsl", entry: "masked_mse_backward"}
	kAdamW        = kernel{file: "adamw.wgsl", entry: "adamw"}
)

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
// elements each (views[0] is the output; an empty view binds nothing), in
// chunks that fit one storage binding window each; params sets the
// uniform fields other than n and the views' offsets.
func (b *Backend) elementwise(k kernel, n int, views []backend.View, params func(c *call)) {
	for off := 0; off < n; off += b.chunk {
		m := min(b.chunk, n-off)
		c := b.newCall(k)
		if c == nil {
			return
		}
		c.u("n", m)
		sub := make([]backend.View, len(views))
		for i, v := range views {
			if !v.Empty() {
				sub[i] = v.Sub(off, m)
			}
		}
		b.bindViews(c, sub...)
		if params != nil {
			params(c)
		}
		b.dispatch(c, b.grid1(c, m))
	}
}

// grid1 returns the grid of a kernel with WG threads, one element each
// (none for a nil call: the kernel failed to compile, and the failure is
// recorded).
func (b *Backend) grid1(c *call, n int) dims {
	if c == nil {
		return dims{}
	}
	return b.grid(ceilDiv(n, c.p.constant("WG")))
}

// noInner sets elementwise.wgsl's add_broadcast row length, unused by the
// file's other entries.
func noInner(c *call) { c.u("inner", 0) }

// Zero implements backend.Kernels.
func (b *Backend) Zero(dst backend.View) {
	b.buffer(dst, "zero")
	b.elementwise(kZero, dst.Len, []backend.View{dst, {}}, noInner)
}

// Copy implements backend.Kernels.
func (b *Backend) Copy(dst, src backend.View) {
	sameLen("copy", dst.Len, src.Len)
	b.elementwise(kCopy, dst.Len, []backend.View{dst, src}, noInner)
}

// Add implements backend.Kernels.
func (b *Backend) Add(dst, src backend.View) {
	sameLen("add", dst.Len, src.Len)
	b.elementwise(kAdd, dst.Len, []backend.View{dst, src}, noInner)
}

// AddBroadcast implements backend.Kernels: dst's chunks start at multiples
// of the row length n, so every chunk adds src from its element 0.
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
		c.u("n", m)
		c.u("inner", n)
		b.bindViews(c, dst.Sub(off, m), src)
		b.dispatch(c, b.grid1(c, m))
	}
}

// GELU implements backend.Kernels.
func (b *Backend) GELU(y, x backend.View) {
	sameLen("gelu", y.Len, x.Len)
	b.elementwise(kGELU, x.Len, []backend.View{y, x, {}}, nil)
}

// GELUBackward implements backend.Kernels.
func (b *Backend) GELUBackward(dx, dy, x backend.View) {
	sameLen("gelu backward", dx.Len, x.Len)
	sameLen("gelu backward", dy.Len, x.Len)
	b.elementwise(kGELUBackward, x.Len, []backend.View{dx, x, dy}, nil)
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
	c.u("n", patches.Len)
	c.u("c", ch)
	c.u("h", h)
	c.u("w", w)
	c.u("p", p)
	b.bindViews(c, patches, images)
	b.dispatch(c, b.grid1(c, patches.Len))
}

// AdamWStep implements backend.Kernels (chunked over views larger than a
// storage binding).
func (b *Backend) AdamWStep(params, grads, m, v backend.View, h backend.AdamW) {
	sameLen("adamw grads", grads.Len, params.Len)
	sameLen("adamw m", m.Len, params.Len)
	sameLen("adamw v", v.Len, params.Len)
	b.elementwise(kAdamW, params.Len, []backend.View{params, grads, m, v}, func(c *call) {
		c.f("lr", h.LR)
		c.f("beta1", h.Beta1)
		c.f("beta2", h.Beta2)
		c.f("eps", h.Eps)
		c.f("wd", h.WeightDecay)
		c.f("bc1", h.BiasCorr1)
		c.f("bc2", h.BiasCorr2)
	})
}
