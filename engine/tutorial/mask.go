package tutorial

import (
	"fmt"
	"sort"

	"webmae/engine/model"
)

// MaskFromNoise applies the tutorial's masking to noise (B x L):
// rand_indices = argsort(noise) (stable), the first numMasked indices are
// masked and the rest kept, in that order. Keep lists the kept patches as
// the encoder sees them; Restore[b][p] is p's position among the kept
// patches, or K plus its position among the masked ones; Mask is 1 where
// masked.
func MaskFromNoise(noise []float32, b, l, numMasked int) (model.Masking, error) {
	if len(noise) != b*l {
		return model.Masking{}, fmt.Errorf("noise has %d values, want %d x %d", len(noise), b, l)
	}
	if numMasked < 1 || numMasked >= l {
		return model.Masking{}, fmt.Errorf("masking %d of %d patches: need 1 <= masked < %d", numMasked, l, l)
	}
	k := l - numMasked
	m := model.Masking{B: b, L: l, K: k, Keep: make([]int32, b*k), Restore: make([]int32, b*l), Mask: make([]float32, b*l)}
	order := make([]int32, l)
	for s := 0; s < b; s++ {
		row := noise[s*l : (s+1)*l]
		for i := range order {
			order[i] = int32(i)
		}
		sort.SliceStable(order, func(i, j int) bool { return row[order[i]] < row[order[j]] })
		for i, p := range order {
			if i < numMasked {
				m.Mask[s*l+int(p)] = 1
				m.Restore[s*l+int(p)] = int32(k + i)
			} else {
				m.Keep[s*k+i-numMasked] = p
				m.Restore[s*l+int(p)] = int32(i - numMasked)
			}
		}
	}
	return m, nil
}

// flatten turns a masking of B samples into index lists over the whole
// batch seen as one sequence (B*L patches, B*K kept): the official token
// kernels then run with b = 1 and no CLS row of their own, which is what
// the tutorial's CLS-free encoder and decoder need. Masked patches restore
// to B*K, which the unshuffle kernel reads as "mask token".
func flatten(mk model.Masking) (keep, restore []int32) {
	b, l, k := mk.B, mk.L, mk.K
	keep = make([]int32, b*k)
	restore = make([]int32, b*l)
	for s := 0; s < b; s++ {
		for j := 0; j < k; j++ {
			keep[s*k+j] = int32(s*l) + mk.Keep[s*k+j]
		}
		for i := 0; i < l; i++ {
			if r := mk.Restore[s*l+i]; int(r) < k {
				restore[s*l+i] = int32(s*k) + r
			} else {
				restore[s*l+i] = int32(b * k)
			}
		}
	}
	return keep, restore
}
