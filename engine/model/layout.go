package model

import (
	"fmt"
	"strconv"
)

// Group says how AdamW treats a parameter tensor.
type Group int

const (
	// GroupDecay: weight matrices, the patch embedding, cls and mask tokens
	// (two or more dimensions, not a bias): AdamW with decoupled decay.
	GroupDecay Group = iota
	// GroupNoDecay: biases and LayerNorm parameters.
	GroupNoDecay
	// GroupFrozen: the fixed sin-cos position embeddings; never updated.
	GroupFrozen
	numGroups
)

// Span is a contiguous range of float32 elements in a flat buffer.
type Span struct{ Off, Len int }

// Tensor describes one named parameter tensor in the flat buffer.
//
// Shape is the Hugging Face shape. The stored element order equals the
// Hugging Face order for every tensor except the patch embedding weight,
// which is stored as (D, P, P, C) — the patchify order (p, q, c) — rather
// than the conv layout (D, C, P, P); see PatchEmbedName and the IO code.
type Tensor struct {
	Name  string
	Shape []int
	Span
	Group Group
}

// BlockSpans locates one transformer block's parameters. QKVW and QKVB
// cover the query, key and value tensors, which are laid out back to back,
// so QKVW is the fused (3D x D) weight and QKVB the fused 3D bias.
type BlockSpans struct {
	LN1W, LN1B, QKVW, QKVB, ProjW, ProjB, LN2W, LN2B, FC1W, FC1B, FC2W, FC2B Span
}

// Spans locates every parameter the forward/backward sequence uses.
type Spans struct {
	PatchW, PatchB, Cls, Pos Span
	Enc                      []BlockSpans
	NormW, NormB             Span
	DecEmbedW, DecEmbedB     Span
	MaskToken, DecPos        Span
	Dec                      []BlockSpans
	DecNormW, DecNormB       Span
	PredW, PredB             Span
}

// Layout is the flat parameter layout of a configuration: every tensor,
// its offset, and the contiguous range of each AdamW group (Placement),
// and where the forward/backward sequence finds each tensor (Spans).
// Parameters, gradients and both AdamW moments use the same layout.
type Layout struct {
	Placement
	Spans Spans
}

// Names of the embedding tensors (Hugging Face).
const (
	PatchEmbedName = "vit.embeddings.patch_embeddings.projection.weight"
	ClsTokenName   = "vit.embeddings.cls_token"
	PosEmbedName   = "vit.embeddings.position_embeddings"
	MaskTokenName  = "decoder.mask_token"
	DecPosName     = "decoder.decoder_pos_embed"
)

// NewLayout builds the layout for a validated configuration.
func NewLayout(c Config) *Layout {
	var specs []TensorSpec
	add := func(dst *Span, g Group, name string, shape ...int) {
		specs = append(specs, TensorSpec{Name: name, Shape: shape, Group: g, Dst: dst})
	}
	D, Dd, L, PD := c.HiddenSize, c.DecoderHiddenSize, c.NumPatches(), c.PatchDim()
	s := Spans{Enc: make([]BlockSpans, c.NumHiddenLayers), Dec: make([]BlockSpans, c.DecoderNumHiddenLayers)}

	block := func(b *BlockSpans, prefix string, d, hidden int) {
		att := prefix + "attention."
		// query, key, value back to back in each group: fused qkv views.
		add(nil, GroupDecay, att+"attention.query.weight", d, d)
		add(nil, GroupDecay, att+"attention.key.weight", d, d)
		add(nil, GroupDecay, att+"attention.value.weight", d, d)
		add(nil, GroupNoDecay, att+"attention.query.bias", d)
		add(nil, GroupNoDecay, att+"attention.key.bias", d)
		add(nil, GroupNoDecay, att+"attention.value.bias", d)
		add(&b.ProjW, GroupDecay, att+"output.dense.weight", d, d)
		add(&b.ProjB, GroupNoDecay, att+"output.dense.bias", d)
		add(&b.LN1W, GroupNoDecay, prefix+"layernorm_before.weight", d)
		add(&b.LN1B, GroupNoDecay, prefix+"layernorm_before.bias", d)
		add(&b.LN2W, GroupNoDecay, prefix+"layernorm_after.weight", d)
		add(&b.LN2B, GroupNoDecay, prefix+"layernorm_after.bias", d)
		add(&b.FC1W, GroupDecay, prefix+"intermediate.dense.weight", hidden, d)
		add(&b.FC1B, GroupNoDecay, prefix+"intermediate.dense.bias", hidden)
		add(&b.FC2W, GroupDecay, prefix+"output.dense.weight", d, hidden)
		add(&b.FC2B, GroupNoDecay, prefix+"output.dense.bias", d)
	}

	add(&s.PatchW, GroupDecay, PatchEmbedName, D, c.NumChannels, c.PatchSize, c.PatchSize)
	add(&s.PatchB, GroupNoDecay, "vit.embeddings.patch_embeddings.projection.bias", D)
	add(&s.Cls, GroupDecay, ClsTokenName, 1, 1, D)
	add(&s.Pos, GroupFrozen, PosEmbedName, 1, L+1, D)
	for i := range s.Enc {
		block(&s.Enc[i], "vit.encoder.layer."+strconv.Itoa(i)+".", D, c.IntermediateSize)
	}
	add(&s.NormW, GroupNoDecay, "vit.layernorm.weight", D)
	add(&s.NormB, GroupNoDecay, "vit.layernorm.bias", D)
	add(&s.DecEmbedW, GroupDecay, "decoder.decoder_embed.weight", Dd, D)
	add(&s.DecEmbedB, GroupNoDecay, "decoder.decoder_embed.bias", Dd)
	add(&s.MaskToken, GroupDecay, MaskTokenName, 1, 1, Dd)
	add(&s.DecPos, GroupFrozen, DecPosName, 1, L+1, Dd)
	for i := range s.Dec {
		block(&s.Dec[i], "decoder.decoder_layers."+strconv.Itoa(i)+".", Dd, c.DecoderIntermediateSize)
	}
	add(&s.DecNormW, GroupNoDecay, "decoder.decoder_norm.weight", Dd)
	add(&s.DecNormB, GroupNoDecay, "decoder.decoder_norm.bias", Dd)
	add(&s.PredW, GroupDecay, "decoder.decoder_pred.weight", PD, Dd)
	add(&s.PredB, GroupNoDecay, "decoder.decoder_pred.bias", PD)

	lay := &Layout{Placement: Place(specs)}
	fuse := func(b *BlockSpans, prefix string) {
		q, _ := lay.Lookup(prefix + "attention.attention.query.weight")
		qb, _ := lay.Lookup(prefix + "attention.attention.query.bias")
		b.QKVW = Span{q.Off, 3 * q.Len}
		b.QKVB = Span{qb.Off, 3 * qb.Len}
	}
	for i := range s.Enc {
		fuse(&s.Enc[i], "vit.encoder.layer."+strconv.Itoa(i)+".")
	}
	for i := range s.Dec {
		fuse(&s.Dec[i], "decoder.decoder_layers."+strconv.Itoa(i)+".")
	}
	lay.Spans = s
	return lay
}

// String summarises the layout.
func (l *Layout) String() string {
	return fmt.Sprintf("%d tensors, %d parameters (%d decayed, %d not decayed, %d frozen)",
		len(l.Tensors), l.Total, l.Groups[GroupDecay].Len, l.Groups[GroupNoDecay].Len, l.Groups[GroupFrozen].Len)
}
