// Package backend defines the kernel interface the MAE forward/backward
// sequence (package engine/mae) is written against. engine/cpu implements it
// in plain Go (the ground truth); engine/gpu implements it with WGSL compute
// shaders on WebGPU. Every kernel has a CPU/GPU parity test.
//
// Conventions for every kernel:
//   - All shapes are row-major; the last index is fastest.
//   - A View is a range of float32 (or int32 for index buffers) elements of
//     one Buffer; kernels read and write only inside the views they are given.
//   - Outputs are overwritten unless a kernel says it accumulates.
//   - Kernels may run asynchronously (the GPU records them into a command
//     encoder); Read waits for every kernel issued before it.
//   - Output views never alias input views unless a kernel says so.
package backend

// Buffer is storage owned by a backend: float32 elements, or int32 for
// buffers made with NewIndexBuffer.
type Buffer interface {
	// Len is the number of elements.
	Len() int
}

// View is a contiguous range of a buffer's elements.
type View struct {
	Buf Buffer
	Off int
	Len int
}

// Whole returns a view of the entire buffer.
func Whole(b Buffer) View { return View{Buf: b, Off: 0, Len: b.Len()} }

// Sub returns the sub-view [off, off+n) of v.
func (v View) Sub(off, n int) View {
	if off < 0 || n < 0 || off+n > v.Len {
		panic("backend: sub-view out of range")
	}
	return View{Buf: v.Buf, Off: v.Off + off, Len: n}
}

// Empty reports whether the view has no buffer (an absent optional operand).
func (v View) Empty() bool { return v.Buf == nil }

// MatMul describes C = op(A) op(B) (+ bias) with C of shape M x N.
// op(A) is M x K: A is stored M x K, or K x M when TransA.
// op(B) is K x N: B is stored K x N, or N x K when TransB.
// Bias (length N, optional: an empty View) is added to every row.
// With Accumulate, C += result instead of C = result.
//
// A linear layer y = x W^T + b is {A: x, B: W, TransB: true, Bias: b};
// its input gradient dx = dy W is {A: dy, B: W}; its weight gradient
// dW = dy^T x is {A: dy, B: x, TransA: true}.
type MatMul struct {
	M, N, K        int
	TransA, TransB bool
	Accumulate     bool
}

// AdamW holds the scalar hyper-parameters of one AdamW update (PyTorch
// semantics, decoupled decay):
//
//	p *= 1 - LR*WeightDecay
//	m = Beta1*m + (1-Beta1)*g;  v = Beta2*v + (1-Beta2)*g*g
//	p -= LR/BiasCorr1 * m / (sqrt(v)/sqrt(BiasCorr2) + Eps)
//
// where BiasCorr1 = 1-Beta1^t and BiasCorr2 = 1-Beta2^t for step t >= 1.
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	BiasCorr1, BiasCorr2               float32
}

// Kernels is the set of operations the MAE needs. Token tensors are
// (B, T, D): batch, tokens, features.
type Kernels interface {
	// Name says which backend and device this is, for reports.
	Name() string

	// NewBuffer allocates n zeroed float32 elements.
	NewBuffer(n int) Buffer
	// NewIndexBuffer allocates n zeroed int32 elements.
	NewIndexBuffer(n int) Buffer
	// Write copies src into dst (len(src) == dst.Len).
	Write(dst View, src []float32)
	// WriteIndex copies src into an index-buffer view.
	WriteIndex(dst View, src []int32)
	// Read waits for all issued work and copies src into dst.
	Read(src View, dst []float32) error
	// Submit hands all recorded work to the device (no-op on the CPU).
	Submit() error
	// Release frees every buffer and device resource.
	Release()

	// Zero sets dst to 0.
	Zero(dst View)
	// Copy sets dst = src (same length).
	Copy(dst, src View)
	// Add sets dst += src (same length).
	Add(dst, src View)
	// AddBroadcast adds src (length n) to each of the outer consecutive
	// length-n blocks of dst (dst.Len == outer*n).
	AddBroadcast(dst, src View, outer int)

	// MatMul computes c = op(a) op(b) (+ bias); see MatMul.
	MatMul(c, a, b, bias View, p MatMul)
	// MatMulGELU computes c = op(a) op(b) (+ bias) like MatMul (no
	// Accumulate) and act = GELU(c) (exact erf form) in the same pass: the
	// first layer of an MLP, keeping the pre-activation for the backward.
	// act and c have the same length and do not overlap.
	MatMulGELU(c, act, a, b, bias View, p MatMul)
	// ColumnSum sets dst[j] = sum_i src[i, j] for src (rows x dst.Len);
	// with accumulate, dst[j] += that sum. Bias gradients.
	ColumnSum(dst, src View, rows int, accumulate bool)

	// LayerNorm normalises each of the rows of x (rows x dim):
	// y = (x - mean) * rstd * gamma + beta with rstd = 1/sqrt(var + eps),
	// var the biased variance. mean and rstd (length rows) are saved.
	LayerNorm(y, mean, rstd, x, gamma, beta View, rows, dim int, eps float32)
	// LayerNormBackward computes dx (accumulated into dx when accumulate),
	// and overwrites dgamma and dbeta, from dy and the saved statistics.
	LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma View, rows, dim int, accumulate bool)

	// GELU sets y = x * Phi(x) (exact erf form) elementwise.
	GELU(y, x View)
	// GELUBackward sets dx = dy * GELU'(x) elementwise.
	GELUBackward(dx, dy, x View)

	// Attention is multi-head scaled-dot-product attention. qkv is
	// (B, T, 3*heads*hd) with the query, key and value blocks side by side
	// ([q | k | v], each heads*hd wide, head h at columns h*hd..(h+1)*hd);
	// out is (B, T, heads*hd); probs (B, heads, T, T) receives the softmax
	// of q k^T / sqrt(hd) for the backward pass.
	Attention(out, probs, qkv View, b, t, heads, hd int)
	// AttentionBackward overwrites dqkv (B, T, 3*heads*hd) from dout
	// (B, T, heads*hd), the forward's qkv and saved probs.
	AttentionBackward(dqkv, dout, qkv, probs View, b, t, heads, hd int)

	// Patchify turns images (B, C, H, W) into patches (B, L, P*P*C) with
	// vector order (p, q, c), channel fastest; L = (H/P)*(W/P), patches in
	// row-major grid order.
	Patchify(patches, images View, b, c, h, w, p int)

	// GatherTokens builds the encoder input (B, 1+K, D): row 0 of every
	// sample is first (length D: cls token + its position embedding), row
	// 1+k is emb[b, keep[b,k]] with emb (B, L, D) and keep (B, K) an index
	// view.
	GatherTokens(out, emb, first, keep View, b, l, k, d int)
	// GatherTokensBackward is its adjoint: demb (B, L, D) is overwritten
	// (zero rows for removed patches), dfirst (D) is overwritten with the
	// sum over the batch of dout[b, 0].
	GatherTokensBackward(demb, dfirst, dout, keep View, b, l, k, d int)

	// Unshuffle builds the decoder input (B, 1+L, D) from the decoder
	// embedding y (B, 1+K, D): row 0 is y[b, 0]; row 1+i is
	// y[b, 1+restore[b,i]] when restore[b,i] < K, else maskToken (D).
	Unshuffle(out, y, maskToken, restore View, b, l, k, d int)
	// UnshuffleBackward is its adjoint: dy (B, 1+K, D) is overwritten with
	// dy[b,0] = dout[b,0] and dy[b,1+j] = dout[b, 1+keep[b,j]];
	// dmaskToken (D) is overwritten with the sum of dout[b, 1+i] over the
	// removed patches (mask[b,i] == 1, mask (B, L) float).
	UnshuffleBackward(dy, dmaskToken, dout, keep, mask View, b, l, k, d int)

	// NormalizePatches sets dst = (x - mean) / sqrt(var + 1e-6) per row of x
	// (rows x dim), var the unbiased variance: the norm_pix_loss target.
	NormalizePatches(dst, x View, rows, dim int)

	// MaskedMSE sets loss (length 1) to
	//   sum_{b,i} mask[b,i] * mean_j (pred[b,1+i,j] - target[b,i,j])^2 / numMasked
	// with pred (B, 1+L, dim) (row 0, the CLS row, is skipped), target
	// (B, L, dim) and mask (B, L).
	MaskedMSE(loss, pred, target, mask View, b, l, dim int, numMasked float32)
	// MaskedMSEBackward overwrites dpred (B, 1+L, dim) with the gradient of
	// MaskedMSE times dloss (zero CLS rows).
	MaskedMSEBackward(dpred, pred, target, mask View, b, l, dim int, numMasked, dloss float32)

	// AdamWStep updates params, m and v in place from grads (all the same
	// length); see AdamW.
	AdamWStep(params, grads, m, v View, h AdamW)
}
