package tutorial

import (
	"fmt"
	"strconv"

	"webmae/engine/model"
)

// BlockSpans locates one transformer block's parameters (Attention at
// layers.N.0, FeedForward at layers.N.1). OutW/OutB are empty when to_out is
// the identity (heads == 1 and dim_head == dim).
type BlockSpans struct {
	LN1W, LN1B, QKVW, OutW, OutB, LN2W, LN2B, FC1W, FC1B, FC2W, FC2B model.Span
	Proj                                                             bool
}

// Spans locates every parameter tensor.
type Spans struct {
	// Patch embedding: LayerNorm(P*P*C) -> Linear -> LayerNorm(dim).
	PatchLN1W, PatchLN1B, PatchW, PatchB, PatchLN2W, PatchLN2B model.Span
	Pos                                                        model.Span // encoder.pos_embedding (1, L+1, dim)
	Enc                                                        []BlockSpans
	NormW, NormB                                               model.Span // encoder.transformer.norm
	EncToDecW, EncToDecB                                       model.Span // empty when enc_to_dec is the identity
	MaskToken, DecPos                                          model.Span // decoder_pos_emb.weight (L+1, decoder_dim)
	Dec                                                        []BlockSpans
	DecNormW, DecNormB                                         model.Span
	PixW, PixB                                                 model.Span
	Cls, HeadW, HeadB                                          model.Span // unused by the MAE, kept for export
}

// Layout is the flat parameter layout under the tutorial's state_dict keys,
// grouped for AdamW as in engine/model: tensors of two or more dimensions
// decayed, vectors not, the tensors the MAE does not use (encoder.cls_token,
// encoder.mlp_head.*) frozen.
type Layout struct {
	model.Placement
	Spans Spans
}

// Alias prefixes: MAE.patch_to_emb is nn.Sequential(*encoder.to_patch_embedding[1:]),
// so its tensors are the same storage under a second name.
const (
	canonicalPatchPrefix = "encoder.to_patch_embedding."
	aliasPatchPrefix     = "patch_to_emb."
)

// NewLayout builds the layout of a validated configuration.
func NewLayout(c Config) *Layout {
	var specs []model.TensorSpec
	add := func(dst *model.Span, name string, shape ...int) {
		g := model.GroupNoDecay
		if len(shape) >= 2 {
			g = model.GroupDecay
		}
		specs = append(specs, model.TensorSpec{Name: name, Shape: shape, Group: g, Dst: dst})
	}
	D, Dd, L, PD := c.Dim, c.DecoderDim, c.NumPatches(), c.PatchDim()
	s := Spans{Enc: make([]BlockSpans, c.Depth), Dec: make([]BlockSpans, c.DecoderDepth)}
	block := func(b *BlockSpans, prefix string, d, heads, dimHead, hidden int) {
		inner := heads * dimHead
		att, ff := prefix+"0.", prefix+"1."
		add(&b.LN1W, att+"norm.weight", d)
		add(&b.LN1B, att+"norm.bias", d)
		add(&b.QKVW, att+"to_qkv.weight", 3*inner, d)
		if b.Proj = ProjectOut(heads, dimHead, d); b.Proj {
			add(&b.OutW, att+"to_out.0.weight", d, inner)
			add(&b.OutB, att+"to_out.0.bias", d)
		}
		add(&b.LN2W, ff+"net.0.weight", d)
		add(&b.LN2B, ff+"net.0.bias", d)
		add(&b.FC1W, ff+"net.1.weight", hidden, d)
		add(&b.FC1B, ff+"net.1.bias", hidden)
		add(&b.FC2W, ff+"net.4.weight", d, hidden)
		add(&b.FC2B, ff+"net.4.bias", d)
	}
	add(&s.MaskToken, "mask_token", Dd)
	add(&s.Pos, "encoder.pos_embedding", 1, L+1, D)
	add(&s.PatchLN1W, canonicalPatchPrefix+"1.weight", PD)
	add(&s.PatchLN1B, canonicalPatchPrefix+"1.bias", PD)
	add(&s.PatchW, canonicalPatchPrefix+"2.weight", D, PD)
	add(&s.PatchB, canonicalPatchPrefix+"2.bias", D)
	add(&s.PatchLN2W, canonicalPatchPrefix+"3.weight", D)
	add(&s.PatchLN2B, canonicalPatchPrefix+"3.bias", D)
	add(&s.NormW, "encoder.transformer.norm.weight", D)
	add(&s.NormB, "encoder.transformer.norm.bias", D)
	for i := range s.Enc {
		block(&s.Enc[i], "encoder.transformer.layers."+strconv.Itoa(i)+".", D, c.Heads, c.DimHead, c.Hidden())
	}
	if c.EncToDec() {
		add(&s.EncToDecW, "enc_to_dec.weight", Dd, D)
		add(&s.EncToDecB, "enc_to_dec.bias", Dd)
	}
	add(&s.DecNormW, "decoder.norm.weight", Dd)
	add(&s.DecNormB, "decoder.norm.bias", Dd)
	for i := range s.Dec {
		block(&s.Dec[i], "decoder.layers."+strconv.Itoa(i)+".", Dd, c.DecoderHeads, c.DecoderDimHead, c.DecoderHidden())
	}
	// nn.Embedding(num_patches, ...) where the MAE's num_patches is read
	// from pos_embedding, which has L+1 rows: row L is never used.
	add(&s.DecPos, "decoder_pos_emb.weight", L+1, Dd)
	add(&s.PixW, "to_pixels.weight", PD, Dd)
	add(&s.PixB, "to_pixels.bias", PD)
	specs = append(specs,
		model.TensorSpec{Name: "encoder.cls_token", Shape: []int{1, 1, D}, Group: model.GroupFrozen, Dst: &s.Cls},
		model.TensorSpec{Name: "encoder.mlp_head.weight", Shape: []int{c.NumClasses, D}, Group: model.GroupFrozen, Dst: &s.HeadW},
		model.TensorSpec{Name: "encoder.mlp_head.bias", Shape: []int{c.NumClasses}, Group: model.GroupFrozen, Dst: &s.HeadB})
	lay := &Layout{Placement: model.Place(specs)}
	lay.Spans = s // after Place, which writes the spans into s
	return lay
}

// String summarises the layout.
func (l *Layout) String() string {
	return fmt.Sprintf("%d tensors, %d parameters (%d decayed, %d not decayed, %d unused by the MAE)",
		len(l.Tensors), l.Total, l.Groups[model.GroupDecay].Len, l.Groups[model.GroupNoDecay].Len, l.Groups[model.GroupFrozen].Len)
}
