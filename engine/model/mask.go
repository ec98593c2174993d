package model

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Masking is the per-sample patch selection of one batch, with the
// official semantics: Keep[b] lists the kept patch indices in the order the
// encoder sees them (ids_shuffle[:K]), Restore[b][l] is the position of
// patch l in the shuffled order (ids_restore), Mask[b][l] is 1 for a
// removed patch. Slices are flattened row-major (B x K, B x L).
type Masking struct {
	B, L, K int
	Keep    []int32
	Restore []int32
	Mask    []float32
}

// MaskFromNoise applies random masking from a given noise tensor (B x L):
// ids_shuffle = argsort(noise) (stable), keep the first keep of each row.
func MaskFromNoise(noise []float32, b, l, keep int) (Masking, error) {
	if len(noise) != b*l {
		return Masking{}, fmt.Errorf("noise has %d values, want %d x %d", len(noise), b, l)
	}
	if keep < 1 || keep >= l {
		return Masking{}, fmt.Errorf("keeping %d of %d patches: need 1 <= keep < %d", keep, l, l)
	}
	m := Masking{B: b, L: l, K: keep, Keep: make([]int32, b*keep), Restore: make([]int32, b*l), Mask: make([]float32, b*l)}
	shuffle := make([]int32, l)
	for s := 0; s < b; s++ {
		row := noise[s*l : (s+1)*l]
		for i := range shuffle {
			shuffle[i] = int32(i)
		}
		sort.SliceStable(shuffle, func(i, j int) bool { return row[shuffle[i]] < row[shuffle[j]] })
		m.fill(s, shuffle)
	}
	return m, nil
}

// MaskFromKept builds a masking from explicit kept-patch lists, one per
// sample, all of the same length (the kept patches in ascending order).
func MaskFromKept(kept [][]int, l int) (Masking, error) {
	if len(kept) == 0 {
		return Masking{}, fmt.Errorf("no samples")
	}
	k := len(kept[0])
	if k < 1 || k >= l {
		return Masking{}, fmt.Errorf("keeping %d of %d patches: need 1 <= keep < %d", k, l, l)
	}
	m := Masking{B: len(kept), L: l, K: k, Keep: make([]int32, len(kept)*k), Restore: make([]int32, len(kept)*l), Mask: make([]float32, len(kept)*l)}
	for s, ks := range kept {
		if len(ks) != k {
			return Masking{}, fmt.Errorf("sample %d keeps %d patches, sample 0 keeps %d", s, len(ks), k)
		}
		seen := make([]bool, l)
		shuffle := make([]int32, 0, l)
		for _, p := range ks {
			if p < 0 || p >= l || seen[p] {
				return Masking{}, fmt.Errorf("sample %d: kept patch %d out of range or repeated", s, p)
			}
			seen[p] = true
			shuffle = append(shuffle, int32(p))
		}
		for p := 0; p < l; p++ {
			if !seen[p] {
				shuffle = append(shuffle, int32(p))
			}
		}
		m.fill(s, shuffle)
	}
	return m, nil
}

func (m *Masking) fill(s int, shuffle []int32) {
	for i, p := range shuffle {
		m.Restore[s*m.L+int(p)] = int32(i)
		if i < m.K {
			m.Keep[s*m.K+i] = p
			m.Mask[s*m.L+int(p)] = 0
		} else {
			m.Mask[s*m.L+int(p)] = 1
		}
	}
}

// RandomNoise draws B x L uniform noise from rng, as torch.rand does.
func RandomNoise(rng *rand.Rand, b, l int) []float32 {
	out := make([]float32, b*l)
	for i := range out {
		out[i] = rng.Float32()
	}
	return out
}
