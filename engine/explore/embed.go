package explore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"webmae/engine/mae"
)

// Embedding is one image's encoder embedding without masking: the final
// layer-normed CLS token and the mean of the L patch tokens.
type Embedding struct {
	Name string    `json:"name"`
	CLS  []float32 `json:"cls"`
	Mean []float32 `json:"mean"`
}

// MaxEmbeddings bounds how many embeddings one export holds.
const MaxEmbeddings = 4096

// Embed runs the encoder on every patch of image (C, H, W, normalised)
// with a batch-1 EncoderPass and returns its embeddings.
func Embed(e *mae.EncoderPass, name string, image []float32) (Embedding, error) {
	out, err := e.Run(image)
	if err != nil {
		return Embedding{}, fmt.Errorf("embed %s: %w", name, err)
	}
	t := e.Tokens()
	if t < 2 || len(out)%t != 0 {
		return Embedding{}, fmt.Errorf("embed %s: encoder output of %d values for %d tokens", name, len(out), t)
	}
	d := len(out) / t
	em := Embedding{Name: name, CLS: append([]float32(nil), out[:d]...), Mean: make([]float32, d)}
	sum := make([]float64, d)
	for tok := 1; tok < t; tok++ {
		for j, v := range out[tok*d : (tok+1)*d] {
			sum[j] += float64(v)
		}
	}
	for j := range sum {
		em.Mean[j] = float32(sum[j] / float64(t-1))
	}
	return em, nil
}

// Cosine is the cosine similarity of two vectors of the same length (0 when
// either is zero).
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// Similar is one image's similarity to the query image.
type Similar struct {
	Index     int
	Name      string
	CLS, Mean float64 // cosine similarity of the CLS and mean-pooled embeddings
}

// Rank orders embeddings by the cosine similarity of their mean-pooled
// embedding to embs[query] (the query itself first, similarity 1), ties
// by index.
func Rank(embs []Embedding, query int) ([]Similar, error) {
	if query < 0 || query >= len(embs) {
		return nil, fmt.Errorf("rank: query %d of %d embeddings", query, len(embs))
	}
	q := embs[query]
	out := make([]Similar, len(embs))
	for i, e := range embs {
		if len(e.Mean) != len(q.Mean) || len(e.CLS) != len(q.CLS) {
			return nil, fmt.Errorf("rank: %s has %d features, %s %d", e.Name, len(e.Mean), q.Name, len(q.Mean))
		}
		out[i] = Similar{Index: i, Name: e.Name, CLS: Cosine(e.CLS, q.CLS), Mean: Cosine(e.Mean, q.Mean)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Mean > out[j].Mean })
	return out, nil
}

func checkExport(embs []Embedding) (int, error) {
	if len(embs) == 0 || len(embs) > MaxEmbeddings {
		return 0, fmt.Errorf("export embeddings: %d images, need 1 to %d", len(embs), MaxEmbeddings)
	}
	d := len(embs[0].CLS)
	for _, e := range embs {
		if len(e.CLS) != d || len(e.Mean) != d {
			return 0, fmt.Errorf("export embeddings: %s has %d and %d features, want %d", e.Name, len(e.CLS), len(e.Mean), d)
		}
	}
	return d, nil
}

// NPY encodes the embeddings as a NumPy .npy file (format 1.0): a
// little-endian float32 array of shape (N, 2, D), [i, 0] the CLS and
// [i, 1] the mean-pooled embedding of image i, in order.
func NPY(embs []Embedding) ([]byte, error) {
	d, err := checkExport(embs)
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2, %d), }", len(embs), d)
	// Magic (6) + version (2) + length (2) + header + '\n', padded with
	// spaces to a multiple of 64 bytes.
	pad := (64 - (10+len(header)+1)%64) % 64
	header += string(bytes.Repeat([]byte{' '}, pad)) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	for _, e := range embs {
		_ = binary.Write(&buf, binary.LittleEndian, e.CLS)
		_ = binary.Write(&buf, binary.LittleEndian, e.Mean)
	}
	return buf.Bytes(), nil
}

// EmbeddingsJSON encodes the embeddings as JSON: {"model": source,
// "dim": D, "images": [{"name", "cls", "mean"}, ...]}.
func EmbeddingsJSON(source string, embs []Embedding) ([]byte, error) {
	d, err := checkExport(embs)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Model  string      `json:"model"`
		Dim    int         `json:"dim"`
		Images []Embedding `json:"images"`
	}{source, d, embs})
}
