package tutorial

import (
	"math"
	"math/rand/v2"
	"strings"

	"webmae/engine/model"
)

// Init fills params (length lay.Total) as the tutorial's PyTorch modules
// initialise themselves, from seed: nn.Linear weights and biases uniform in
// +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5), and the bias rule),
// LayerNorm weight 1 and bias 0, and the nn.Parameter(torch.randn(...))
// tensors (pos_embedding, cls_token, mask_token) and nn.Embedding
// (decoder_pos_emb) standard normal.
func Init(lay *Layout, params []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x7475746f7269616c))
	isNorm := func(name string) bool {
		return strings.Contains(name, ".norm.") || strings.HasPrefix(name, "decoder.norm.") ||
			strings.Contains(name, "net.0.") || strings.HasPrefix(name, canonicalPatchPrefix+"1.") ||
			strings.HasPrefix(name, canonicalPatchPrefix+"3.")
	}
	for _, t := range lay.Tensors {
		dst := params[t.Off : t.Off+t.Len]
		switch {
		case isNorm(t.Name) && strings.HasSuffix(t.Name, ".weight"):
			fill(dst, 1)
		case isNorm(t.Name):
			fill(dst, 0)
		case t.Name == "mask_token", t.Name == "encoder.pos_embedding", t.Name == "encoder.cls_token",
			t.Name == "decoder_pos_emb.weight":
			for i := range dst {
				dst[i] = float32(rng.NormFloat64())
			}
		default: // Linear weight (out, in) or bias (out): bound 1/sqrt(in)
			in := fanIn(lay, t)
			bound := 1 / math.Sqrt(float64(in))
			for i := range dst {
				dst[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
	}
}

func fill(dst []float32, v float32) {
	for i := range dst {
		dst[i] = v
	}
}

// fanIn is the input width of the Linear a weight or bias belongs to.
func fanIn(lay *Layout, t model.Tensor) int {
	if len(t.Shape) == 2 {
		return t.Shape[1]
	}
	w, ok := lay.Lookup(strings.TrimSuffix(t.Name, ".bias") + ".weight")
	if !ok || len(w.Shape) != 2 {
		return t.Shape[0]
	}
	return w.Shape[1]
}
