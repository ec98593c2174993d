package cpu

import (
	"fmt"

	"webmae/engine/backend"
)

// Patchify implements backend.Kernels: images (B, C, H, W) to patches
// (B, L, P*P*C) with vector order (p, q, c).
func (c *Backend) Patchify(patches, images backend.View, b, ch, h, w, p int) {
	gh, gw := h/p, w/p
	if images.Len != b*ch*h*w || patches.Len != b*gh*gw*p*p*ch {
		panic(fmt.Sprintf("cpu: patchify b=%d c=%d h=%d w=%d p=%d: images %d patches %d", b, ch, h, w, p, images.Len, patches.Len))
	}
	ps, is := F(patches), F(images)
	o := 0
	for s := 0; s < b; s++ {
		img := is[s*ch*h*w:]
		for gi := 0; gi < gh; gi++ {
			for gj := 0; gj < gw; gj++ {
				for pi := 0; pi < p; pi++ {
					for qj := 0; qj < p; qj++ {
						y, x := gi*p+pi, gj*p+qj
						for cc := 0; cc < ch; cc++ {
							ps[o] = img[(cc*h+y)*w+x]
							o++
						}
					}
				}
			}
		}
	}
}

// GatherTokens implements backend.Kernels.
func (c *Backend) GatherTokens(out, emb, first, keep backend.View, b, l, k, d int) {
	if out.Len != b*(1+k)*d || emb.Len != b*l*d || first.Len != d || keep.Len != b*k {
		panic(fmt.Sprintf("cpu: gather tokens b=%d l=%d k=%d d=%d: sizes %d %d %d %d", b, l, k, d, out.Len, emb.Len, first.Len, keep.Len))
	}
	os, es, fs, ks := F(out), F(emb), F(first), I(keep)
	for s := 0; s < b; s++ {
		copy(os[s*(1+k)*d:], fs)
		for j := 0; j < k; j++ {
			src := (s*l + int(ks[s*k+j])) * d
			copy(os[(s*(1+k)+1+j)*d:(s*(1+k)+2+j)*d], es[src:src+d])
		}
	}
}

// GatherTokensBackward implements backend.Kernels.
func (c *Backend) GatherTokensBackward(demb, dfirst, dout, keep backend.View, b, l, k, d int) {
	des, dfs, dos, ks := F(demb), F(dfirst), F(dout), I(keep)
	clear(des)
	acc := make([]float64, d)
	for s := 0; s < b; s++ {
		row := dos[s*(1+k)*d : (s*(1+k)+1)*d]
		for j, v := range row {
			acc[j] += float64(v)
		}
		for j := 0; j < k; j++ {
			dst := (s*l + int(ks[s*k+j])) * d
			copy(des[dst:dst+d], dos[(s*(1+k)+1+j)*d:(s*(1+k)+2+j)*d])
		}
	}
	for j, v := range acc {
		dfs[j] = float32(v)
	}
}

// Unshuffle implements backend.Kernels.
func (c *Backend) Unshuffle(out, y, maskToken, restore backend.View, b, l, k, d int) {
	if out.Len != b*(1+l)*d || y.Len != b*(1+k)*d || maskToken.Len != d || restore.Len != b*l {
		panic(fmt.Sprintf("cpu: unshuffle b=%d l=%d k=%d d=%d: sizes %d %d %d %d", b, l, k, d, out.Len, y.Len, maskToken.Len, restore.Len))
	}
	os, ys, mt, rs := F(out), F(y), F(maskToken), I(restore)
	for s := 0; s < b; s++ {
		copy(os[s*(1+l)*d:(s*(1+l)+1)*d], ys[s*(1+k)*d:])
		for i := 0; i < l; i++ {
			dst := os[(s*(1+l)+1+i)*d : (s*(1+l)+2+i)*d]
			if r := int(rs[s*l+i]); r < k {
				copy(dst, ys[(s*(1+k)+1+r)*d:])
			} else {
				copy(dst, mt)
			}
		}
	}
}

// UnshuffleBackward implements backend.Kernels.
func (c *Backend) UnshuffleBackward(dy, dmaskToken, dout, keep, mask backend.View, b, l, k, d int) {
	dys, dms, dos, ks, ms := F(dy), F(dmaskToken), F(dout), I(keep), F(mask)
	acc := make([]float64, d)
	for s := 0; s < b; s++ {
		copy(dys[s*(1+k)*d:(s*(1+k)+1)*d], dos[s*(1+l)*d:])
		for j := 0; j < k; j++ {
			src := (s*(1+l) + 1 + int(ks[s*k+j])) * d
			copy(dys[(s*(1+k)+1+j)*d:(s*(1+k)+2+j)*d], dos[src:src+d])
		}
		for i := 0; i < l; i++ {
			if ms[s*l+i] != 0 {
				row := dos[(s*(1+l)+1+i)*d : (s*(1+l)+2+i)*d]
				for j, v := range row {
					acc[j] += float64(v)
				}
			}
		}
	}
	for j, v := range acc {
		dms[j] = float32(v)
	}
}
