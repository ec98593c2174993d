package recon

import (
	"math"
	"testing"
)

// FuzzParsePreprocessor checks that ParsePreprocessor never panics and
// that an accepted normalisation has c finite means and c finite,
// positive standard deviations, and survives a marshal/parse round trip.
func FuzzParsePreprocessor(f *testing.F) {
	b, _ := MarshalPreprocessor(ImageNet(), 224)
	f.Add(b, 3)
	f.Add([]byte(`{"image_mean":[0.5],"image_std":[0.25]}`), 1)
	f.Add([]byte(`{"image_mean":[0.5,0.5,0.5],"image_std":[0,1,1]}`), 3)
	f.Add([]byte(`{"image_mean":[1e999],"image_std":[1]}`), 1)
	f.Add([]byte(`{}`), 1)
	f.Fuzz(func(t *testing.T, data []byte, c int) {
		n, err := ParsePreprocessor(data, c)
		if err != nil {
			return
		}
		if len(n.Mean) != c || len(n.Std) != c {
			t.Fatalf("accepted %d means and %d stds for %d channels", len(n.Mean), len(n.Std), c)
		}
		for i := range c {
			if m, s := float64(n.Mean[i]), float64(n.Std[i]); math.IsNaN(m) || math.IsInf(m, 0) || !(s > 0) || math.IsInf(s, 0) {
				t.Fatalf("accepted mean %v std %v", n.Mean, n.Std)
			}
		}
		again, err := MarshalPreprocessor(n, 32)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := ParsePreprocessor(again, c); err != nil || !equalNorm(m, n) {
			t.Fatalf("round trip: %+v -> %+v (%v)", n, m, err)
		}
	})
}

func equalNorm(a, b Norm) bool {
	if len(a.Mean) != len(b.Mean) || len(a.Std) != len(b.Std) {
		return false
	}
	for i := range a.Mean {
		if a.Mean[i] != b.Mean[i] || a.Std[i] != b.Std[i] {
			return false
		}
	}
	return true
}
