package gpu

import (
	"fmt"
	"math"
	"strings"

	"webmae/engine/backend"
)

// attentionSpec sizes the workgroup-memory rows of attention.wgsl to the
// sequence: MAX_T and MAX_HD become the next powers of two of t and hd
// (at least 32 and 16), MAX_T at most maxRows (longer sequences take the
// shader's chunked online-softmax paths), MAX_HD at most the file's own
// value. Software adapters (SwiftShader) zero-initialise every workgroup's
// memory: rows sized for 1024 tokens make the short MAE sequences two times
// slower there. wg is the threads per workgroup (the file's WG unless
// different). Each size is its own pipeline, compiled on first use.
func attentionSpec(k kernel, t, hd, maxRows, wg int) kernel {
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
	if wg != attentionWG {
		k.spec += fmt.Sprintf(",WG=%d", wg)
	}
	return k
}

// attentionWorkgroup is the threads per attention workgroup on an adapter:
// the file's 64 on GPUs, 16 on software adapters (SwiftShader, Mesa's
// lavapipe/llvmpipe), which run a workgroup's invocations in groups of a
// few SIMD lanes on one CPU thread and switch between the groups at every
// barrier: the softmax's reductions cost fewer switches and the output
// loop (hd features) keeps more of its threads busy. Measured on
// SwiftShader (/bench?only=profile-recon, the 224-px default's shape, one
// image): attention 266 ms with 64 threads, 160 ms with 16 (README).
func attentionWorkgroup(info Info) int {
	if info.software() {
		return 16
	}
	return attentionWG
}

// software reports whether the adapter runs on the CPU.
func (i Info) software() bool {
	switch strings.ToLower(i.AdapterType) {
	case "cpu", "fallback":
		return true
	}
	name := strings.ToLower(i.Adapter + " " + i.Description)
	for _, s := range []string{"swiftshader", "llvmpipe", "lavapipe"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// The row sizes attention.wgsl declares (its largest) and its workgroup
// size.
const (
	attentionMaxT  = 1024
	attentionMaxHD = 256
	attentionWG    = 64
)

// attentionCall starts an attention.wgsl dispatch: b, t, h, hd, scale and
// the views out (or dqkv), qkv, probs, dout, dsum.
func (b *Backend) attentionCall(k kernel, bs, t, heads, hd int, views [5]backend.View) *call {
	k = attentionSpec(k, t, hd, b.attentionRows, b.attentionWG)
	c := b.newCall(k)
	if c == nil {
		return nil
	}
	if hd > c.p.constant("MAX_HD") {
		b.fail(fmt.Errorf("gpu: attention with head size %d: the kernel holds head vectors of at most %d features in workgroup memory",
			hd, c.p.constant("MAX_HD")))
		return nil
	}
	c.u("b", bs)
	c.u("t", t)
	c.u("h", heads)
	c.u("hd", hd)
	c.f("scale", float32(1/math.Sqrt(float64(hd))))
	b.bindViews(c, views[:]...)
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
