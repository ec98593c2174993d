package explore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/recon"
)

// parseNPY reads back a float32 .npy file: its shape and values.
func parseNPY(t *testing.T, b []byte) ([]int, []float32) {
	t.Helper()
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("not an .npy 1.0 file: %q", b[:min(len(b), 10)])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hl)%64 != 0 {
		t.Fatalf("header ends at %d, not 64-aligned", 10+hl)
	}
	hdr := string(b[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+), (\d+)\), \} *\n$`).FindStringSubmatch(hdr)
	if m == nil {
		t.Fatalf("header %q", hdr)
	}
	var shape []int
	n := 1
	for _, s := range m[1:] {
		v, _ := strconv.Atoi(s)
		shape = append(shape, v)
		n *= v
	}
	data := make([]float32, n)
	if err := binary.Read(bytes.NewReader(b[10+hl:]), binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
	if len(b) != 10+hl+4*n {
		t.Fatalf("%d bytes, want %d", len(b), 10+hl+4*n)
	}
	return shape, data
}

// Embeddings of the unmasked encoder: CLS = output token 0, mean = mean of
// the patch tokens; an image is most similar to itself (cosine 1); the
// .npy and JSON exports read back to the same numbers.
func TestEmbeddings(t *testing.T) {
	r := microReconstructor(t, cpu.New())
	m := r.Model()
	cfg := m.Config
	e, err := m.NewEncoderPass(1)
	if err != nil {
		t.Fatal(err)
	}
	var embs []Embedding
	for i, name := range []string{"a", "b", "c"} {
		img := testImage(cfg, uint64(20+i))
		if i == 2 {
			img = recon.ImageNet().Normalize(make([]float32, len(img))) // black image
		}
		em, err := Embed(e, name, img)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Run(img)
		if err != nil {
			t.Fatal(err)
		}
		d, l := cfg.HiddenSize, cfg.NumPatches()
		if len(out) != (1+l)*d || len(em.CLS) != d {
			t.Fatalf("encoder output %d values, CLS %d; want (1+%d) x %d", len(out), len(em.CLS), l, d)
		}
		for j := 0; j < d; j++ {
			s := 0.0
			for tok := 1; tok <= l; tok++ {
				s += float64(out[tok*d+j])
			}
			if em.CLS[j] != out[j] || math.Abs(float64(em.Mean[j])-s/float64(l)) > 1e-6 {
				t.Fatalf("feature %d: CLS %g mean %g, output %g mean %g", j, em.CLS[j], em.Mean[j], out[j], s/float64(l))
			}
		}
		embs = append(embs, em)
	}
	ranked, err := Rank(embs, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ranked[0].Name != "b" || math.Abs(ranked[0].Mean-1) > 1e-6 || math.Abs(ranked[0].CLS-1) > 1e-6 {
		t.Fatalf("most similar to b: %+v", ranked[0])
	}
	for i := 1; i < len(ranked); i++ {
		if ranked[i].Mean > ranked[i-1].Mean {
			t.Fatalf("ranking not descending: %+v", ranked)
		}
	}
	if c := Cosine([]float32{1, 0}, []float32{0, 2}); c != 0 {
		t.Fatalf("orthogonal cosine %g", c)
	}
	if c := Cosine([]float32{1, 2}, []float32{-2, -4}); math.Abs(c+1) > 1e-15 {
		t.Fatalf("opposite cosine %g", c)
	}

	npy, err := NPY(embs)
	if err != nil {
		t.Fatal(err)
	}
	shape, data := parseNPY(t, npy)
	d := cfg.HiddenSize
	if shape[0] != 3 || shape[1] != 2 || shape[2] != d {
		t.Fatalf("npy shape %v", shape)
	}
	for i, em := range embs {
		for j := 0; j < d; j++ {
			if data[(i*2)*d+j] != em.CLS[j] || data[(i*2+1)*d+j] != em.Mean[j] {
				t.Fatalf("npy image %d feature %d differs", i, j)
			}
		}
	}
	js, err := EmbeddingsJSON("micro", embs)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Model  string
		Dim    int
		Images []Embedding
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Model != "micro" || back.Dim != d || len(back.Images) != 3 || back.Images[2].Mean[5] != embs[2].Mean[5] || back.Images[0].Name != "a" {
		t.Fatalf("json round trip: %s ...", js[:80])
	}
	if _, err := NPY(nil); err == nil {
		t.Fatal("no embeddings: no error")
	}
	if _, err := Embed(e, "short", make([]float32, 5)); err == nil {
		t.Fatal("short image: no error")
	}
	if _, err := Rank(embs, 3); err == nil {
		t.Fatal("query out of range: no error")
	}
}
