package model

import (
	"math"
	"math/rand/v2"
)

// Init fills params (length Layout.Total) as the official MAE code does:
// xavier-uniform for every linear weight (the fused qkv weight as one
// 3D x D matrix) and for the patch embedding viewed as D x C*P*P, zero
// biases, LayerNorm weight 1 and bias 0, normal(0, 0.02) cls and mask
// tokens, and the fixed 2-D sin-cos position embeddings.
func Init(c Config, l *Layout, params []float32, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6165)) // "mae"
	for i := range params {
		params[i] = 0
	}
	s := l.Spans
	xavier := func(sp Span, fanOut, fanIn int) {
		bound := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := sp.Off; i < sp.Off+sp.Len; i++ {
			params[i] = float32((rng.Float64()*2 - 1) * bound)
		}
	}
	fill := func(sp Span, v float32) {
		for i := sp.Off; i < sp.Off+sp.Len; i++ {
			params[i] = v
		}
	}
	normal := func(sp Span, std float64) {
		for i := sp.Off; i < sp.Off+sp.Len; i++ {
			params[i] = float32(rng.NormFloat64() * std)
		}
	}
	D, Dd := c.HiddenSize, c.DecoderHiddenSize
	xavier(s.PatchW, D, c.PatchDim())
	normal(s.Cls, 0.02)
	copy(params[s.Pos.Off:s.Pos.Off+s.Pos.Len], SinCos2D(D, c.GridSize()))
	blocks := func(bs []BlockSpans, d, hidden int) {
		for _, b := range bs {
			xavier(b.QKVW, 3*d, d)
			xavier(b.ProjW, d, d)
			xavier(b.FC1W, hidden, d)
			xavier(b.FC2W, d, hidden)
			fill(b.LN1W, 1)
			fill(b.LN2W, 1)
		}
	}
	blocks(s.Enc, D, c.IntermediateSize)
	fill(s.NormW, 1)
	xavier(s.DecEmbedW, Dd, D)
	normal(s.MaskToken, 0.02)
	copy(params[s.DecPos.Off:s.DecPos.Off+s.DecPos.Len], SinCos2D(Dd, c.GridSize()))
	blocks(s.Dec, Dd, c.DecoderIntermediateSize)
	fill(s.DecNormW, 1)
	xavier(s.PredW, c.PatchDim(), Dd)
}

// SinCos2D returns the fixed (1+g*g) x dim position embedding of the
// official code: a zero row for CLS, then for the patch at row i, column j
// [sin(j w) | cos(j w) | sin(i w) | cos(i w)], each dim/4 wide, with
// w_k = 1/10000^(k/(dim/4)). Computed in float64, rounded once.
func SinCos2D(dim, grid int) []float32 {
	q := dim / 4
	out := make([]float32, (1+grid*grid)*dim)
	for i := 0; i < grid; i++ {
		for j := 0; j < grid; j++ {
			row := out[(1+i*grid+j)*dim:]
			for k := 0; k < q; k++ {
				w := 1 / math.Pow(10000, float64(k)/float64(q))
				row[k] = float32(math.Sin(float64(j) * w))
				row[q+k] = float32(math.Cos(float64(j) * w))
				row[2*q+k] = float32(math.Sin(float64(i) * w))
				row[3*q+k] = float32(math.Cos(float64(i) * w))
			}
		}
	}
	return out
}
