package model

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"webmae/engine/fileio"
)

// WeightFormat names the key-naming convention of a weights file.
type WeightFormat int

const (
	// FormatHF: Hugging Face ViTMAEForPreTraining names (vit.embeddings.*,
	// vit.encoder.layer.N.*, vit.layernorm.*, decoder.*).
	FormatHF WeightFormat = iota + 1
	// FormatOfficial: facebookresearch/mae (timm) names (cls_token,
	// patch_embed.proj.*, blocks.N.attn.qkv.* fused q|k|v, decoder_*, ...).
	FormatOfficial
)

// String names the format.
func (f WeightFormat) String() string {
	switch f {
	case FormatHF:
		return "Hugging Face"
	case FormatOfficial:
		return "official MAE"
	}
	return "WeightFormat(" + strconv.Itoa(int(f)) + ")"
}

// File names of a saved model directory.
const (
	ModelFileName  = "model.safetensors"
	ConfigFileName = "config.json"
)

// maxListed caps how many tensor names an error lists per kind of problem.
const maxListed = 8

// maxParams bounds the parameter count LoadModel accepts from a config
// (a 2 GiB file holds at most 1 Gi F16 values).
const maxParams = 1 << 30

// slot says where one tensor of a weights file goes in the flat buffer.
type slot struct {
	name  string // the name in the file
	shape []int  // the shape in the file
	span  Span
	conv  bool      // the patch embedding: (D,C,P,P) in the file, (D,P,P,C) flat
	fixed []float32 // the sin-cos default of an optional position embedding
}

// PermutePatchWeightToConv reorders a patch-embedding weight (or its
// gradient) from the flat layout (D, P, P, C) to the conv layout
// (D, C, P, P) of the Hugging Face and official files. It panics if
// len(w) != d*c*p*p.
func PermutePatchWeightToConv(w []float32, d, c, p int) []float32 {
	return permutePatch(w, d, c, p, true)
}

// PermutePatchWeightFromConv reorders a patch-embedding weight from the
// conv layout (D, C, P, P) to the flat layout (D, P, P, C). It panics if
// len(w) != d*c*p*p.
func PermutePatchWeightFromConv(w []float32, d, c, p int) []float32 {
	return permutePatch(w, d, c, p, false)
}

func permutePatch(w []float32, d, c, p int, toConv bool) []float32 {
	if len(w) != d*c*p*p {
		panic(fmt.Sprintf("model: patch weight has %d values, want %d x %d x %d x %d", len(w), d, c, p, p))
	}
	out := make([]float32, len(w))
	for o := 0; o < d; o++ {
		base := o * c * p * p
		for ch := 0; ch < c; ch++ {
			for i := 0; i < p*p; i++ { // i = row*p + col
				flat, conv := base+i*c+ch, base+ch*p*p+i
				if toConv {
					out[conv] = w[flat]
				} else {
					out[flat] = w[conv]
				}
			}
		}
	}
	return out
}

// hfSlots maps every layout tensor to its own Hugging Face name.
func hfSlots(c Config, lay *Layout) []slot {
	slots := make([]slot, 0, len(lay.Tensors))
	for _, t := range lay.Tensors {
		slots = append(slots, slot{name: t.Name, shape: t.Shape, span: t.Span, conv: t.Name == PatchEmbedName, fixed: posDefault(c, t.Name)})
	}
	return slots
}

// posDefault returns the sin-cos table for a position embedding name, nil
// for any other tensor.
func posDefault(c Config, name string) []float32 {
	switch name {
	case PosEmbedName:
		return SinCos2D(c.HiddenSize, c.GridSize())
	case DecPosName:
		return SinCos2D(c.DecoderHiddenSize, c.GridSize())
	}
	return nil
}

// officialSlots maps the official MAE names onto the layout. The fused
// qkv weight (3D x D) and bias (3D) land on the query, key and value
// tensors, which the layout keeps back to back.
func officialSlots(c Config, lay *Layout) []slot {
	s := lay.Spans
	D, Dd, L, P, C := c.HiddenSize, c.DecoderHiddenSize, c.NumPatches(), c.PatchSize, c.NumChannels
	slots := []slot{
		{name: "cls_token", shape: []int{1, 1, D}, span: s.Cls},
		{name: "pos_embed", shape: []int{1, L + 1, D}, span: s.Pos, fixed: posDefault(c, PosEmbedName)},
		{name: "patch_embed.proj.weight", shape: []int{D, C, P, P}, span: s.PatchW, conv: true},
		{name: "patch_embed.proj.bias", shape: []int{D}, span: s.PatchB},
	}
	for i, b := range s.Enc {
		slots = append(slots, officialBlock("blocks."+strconv.Itoa(i)+".", b, D, c.IntermediateSize)...)
	}
	slots = append(slots,
		slot{name: "norm.weight", shape: []int{D}, span: s.NormW},
		slot{name: "norm.bias", shape: []int{D}, span: s.NormB},
		slot{name: "decoder_embed.weight", shape: []int{Dd, D}, span: s.DecEmbedW},
		slot{name: "decoder_embed.bias", shape: []int{Dd}, span: s.DecEmbedB},
		slot{name: "mask_token", shape: []int{1, 1, Dd}, span: s.MaskToken},
		slot{name: "decoder_pos_embed", shape: []int{1, L + 1, Dd}, span: s.DecPos, fixed: posDefault(c, DecPosName)},
	)
	for i, b := range s.Dec {
		slots = append(slots, officialBlock("decoder_blocks."+strconv.Itoa(i)+".", b, Dd, c.DecoderIntermediateSize)...)
	}
	return append(slots,
		slot{name: "decoder_norm.weight", shape: []int{Dd}, span: s.DecNormW},
		slot{name: "decoder_norm.bias", shape: []int{Dd}, span: s.DecNormB},
		slot{name: "decoder_pred.weight", shape: []int{c.PatchDim(), Dd}, span: s.PredW},
		slot{name: "decoder_pred.bias", shape: []int{c.PatchDim()}, span: s.PredB},
	)
}

// officialBlock names one timm transformer block's tensors.
func officialBlock(prefix string, b BlockSpans, d, hidden int) []slot {
	return []slot{
		{name: prefix + "norm1.weight", shape: []int{d}, span: b.LN1W},
		{name: prefix + "norm1.bias", shape: []int{d}, span: b.LN1B},
		{name: prefix + "attn.qkv.weight", shape: []int{3 * d, d}, span: b.QKVW},
		{name: prefix + "attn.qkv.bias", shape: []int{3 * d}, span: b.QKVB},
		{name: prefix + "attn.proj.weight", shape: []int{d, d}, span: b.ProjW},
		{name: prefix + "attn.proj.bias", shape: []int{d}, span: b.ProjB},
		{name: prefix + "norm2.weight", shape: []int{d}, span: b.LN2W},
		{name: prefix + "norm2.bias", shape: []int{d}, span: b.LN2B},
		{name: prefix + "mlp.fc1.weight", shape: []int{hidden, d}, span: b.FC1W},
		{name: prefix + "mlp.fc1.bias", shape: []int{hidden}, span: b.FC1B},
		{name: prefix + "mlp.fc2.weight", shape: []int{d, hidden}, span: b.FC2W},
		{name: prefix + "mlp.fc2.bias", shape: []int{d}, span: b.FC2B},
	}
}

// DetectWeightFormat tells from the key names whether a weights file uses
// Hugging Face or official names, after stripping a leading "module." or
// "model." shared by every key (see StripCommonPrefix).
func DetectWeightFormat(names []string) (WeightFormat, error) {
	var hf, official bool
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "vit.") || strings.HasPrefix(n, "decoder."):
			hf = true
		case n == "cls_token" || n == "mask_token" || n == "pos_embed" ||
			strings.HasPrefix(n, "patch_embed.") || strings.HasPrefix(n, "blocks.") || strings.HasPrefix(n, "decoder_"):
			official = true
		}
	}
	switch {
	case hf && official:
		return 0, errors.New("the names mix Hugging Face (vit.*, decoder.*) and official MAE (blocks.*, decoder_*) conventions")
	case hf:
		return FormatHF, nil
	case official:
		return FormatOfficial, nil
	}
	names = slices.Sorted(slices.Values(names))
	return 0, fmt.Errorf("no Hugging Face ViTMAE (vit.*, decoder.*) or official MAE (patch_embed.*, blocks.*) names among %d tensors: %s",
		len(names), joinCapped(names, maxListed))
}

// StripCommonPrefix removes a "module." (DistributedDataParallel) or
// "model." prefix when every tensor name has it.
func StripCommonPrefix(tensors map[string]HostTensor) map[string]HostTensor {
	for _, prefix := range []string{"module.", "model."} {
		all := len(tensors) > 0
		for name := range tensors {
			if !strings.HasPrefix(name, prefix) {
				all = false
				break
			}
		}
		if all {
			out := make(map[string]HostTensor, len(tensors))
			for name, t := range tensors {
				out[strings.TrimPrefix(name, prefix)] = t
			}
			return out
		}
	}
	return tensors
}

// LoadWeights fills a flat parameter buffer (layout lay of cfg) from the
// tensors of a Hugging Face or official MAE weights file, detected from the
// names. Position embeddings are copied when present and computed
// (SinCos2D) when absent; every other tensor must be present with its exact
// shape. Missing, unexpected, mis-shaped and integer tensors are all
// reported, by name, in one error.
//
// An encoder-only checkpoint (no decoder weights at all, e.g. the official
// mae_pretrain_vit_*.pth or a Hugging Face ViTMAEModel) is refused with an
// error wrapping ErrEncoderOnly that names the missing weights.
func LoadWeights(tensors map[string]HostTensor, cfg Config, lay *Layout) (params []float32, format WeightFormat, err error) {
	tensors = addViTPrefix(StripCommonPrefix(tensors))
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	format, err = DetectWeightFormat(names)
	if err != nil {
		return nil, 0, fmt.Errorf("load weights: %w", err)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return isDecoderName(n, format) }) {
		return nil, format, fmt.Errorf("load weights (%s names): %w", format, encoderOnly(format))
	}
	var slots []slot
	if format == FormatHF {
		slots = hfSlots(cfg, lay)
	} else {
		slots = officialSlots(cfg, lay)
	}
	params = make([]float32, lay.Total)
	if err := fillSlots(params, tensors, slots, cfg); err != nil {
		return nil, 0, fmt.Errorf("load weights (%s names): %w", format, err)
	}
	return params, format, nil
}

// ErrEncoderOnly is wrapped by LoadWeights' error for a checkpoint without
// decoder weights.
var ErrEncoderOnly = errors.New("encoder-only checkpoint")

// isDecoderName reports whether a tensor belongs to the MAE decoder.
func isDecoderName(name string, f WeightFormat) bool {
	if f == FormatHF {
		return strings.HasPrefix(name, "decoder.")
	}
	return strings.HasPrefix(name, "decoder_") || name == "mask_token"
}

// encoderOnly explains what an encoder-only checkpoint lacks.
func encoderOnly(f WeightFormat) error {
	missing := "decoder_embed.*, mask_token, decoder_pos_embed, decoder_blocks.*, decoder_norm.*, decoder_pred.*"
	if f == FormatHF {
		missing = "decoder.decoder_embed.*, decoder.mask_token, decoder.decoder_layers.*, decoder.decoder_norm.*, decoder.decoder_pred.*"
	}
	return fmt.Errorf("%w: it has no decoder weights (%s), which reconstruction needs; use a checkpoint with the decoder: "+
		"the official mae_visualize_vit_base.pth or mae_visualize_vit_large.pth, or facebook/vit-mae-base, -large or -huge", ErrEncoderOnly, missing)
}

// addViTPrefix gives the tensors of a Hugging Face ViTMAEModel (the encoder
// alone: embeddings.*, encoder.*, layernorm.*) their ViTMAEForPreTraining
// names (vit.*).
func addViTPrefix(tensors map[string]HostTensor) map[string]HostTensor {
	bare := len(tensors) > 0
	for name := range tensors {
		if !strings.HasPrefix(name, "embeddings.") && !strings.HasPrefix(name, "encoder.") &&
			!strings.HasPrefix(name, "layernorm.") && !strings.HasPrefix(name, "pooler.") {
			bare = false
			break
		}
	}
	if !bare {
		return tensors
	}
	out := make(map[string]HostTensor, len(tensors))
	for name, t := range tensors {
		out["vit."+name] = t
	}
	return out
}

// fillSlots copies every slot's tensor into params and reports all
// problems together.
func fillSlots(params []float32, tensors map[string]HostTensor, slots []slot, cfg Config) error {
	var probs LoadProblems
	used := make(map[string]bool, len(slots))
	for _, s := range slots {
		used[s.name] = true
		t, ok := tensors[s.name]
		if !ok {
			if s.fixed != nil {
				copy(params[s.span.Off:s.span.Off+s.span.Len], s.fixed)
				continue
			}
			probs.Missing = append(probs.Missing, s.name)
			continue
		}
		if !probs.Accept(s.name, s.shape, t) {
			continue
		}
		src := t.F32
		if s.conv {
			src = PermutePatchWeightFromConv(src, cfg.HiddenSize, cfg.NumChannels, cfg.PatchSize)
		}
		copy(params[s.span.Off:s.span.Off+s.span.Len], src)
	}
	for name := range tensors {
		if !used[name] {
			probs.Unexpected = append(probs.Unexpected, name)
		}
	}
	return probs.Err(len(slots))
}

// countNonFinite counts the NaN and infinite values of v.
func countNonFinite(v []float32) int {
	n := 0
	for _, x := range v {
		if x-x != 0 { // NaN and ±Inf
			n++
		}
	}
	return n
}

// ParamsToHF returns the parameters as Hugging Face named tensors (copies,
// in layout order), the patch embedding weight in conv layout (D, C, P, P).
// It panics if len(params) != lay.Total.
func ParamsToHF(params []float32, cfg Config, lay *Layout) (names []string, tensors map[string]HostTensor) {
	if len(params) != lay.Total {
		panic(fmt.Sprintf("model: %d parameters for a layout of %d", len(params), lay.Total))
	}
	names = make([]string, 0, len(lay.Tensors))
	tensors = make(map[string]HostTensor, len(lay.Tensors))
	for _, t := range lay.Tensors {
		data := slices.Clone(params[t.Off : t.Off+t.Len])
		if t.Name == PatchEmbedName {
			data = PermutePatchWeightToConv(data, cfg.HiddenSize, cfg.NumChannels, cfg.PatchSize)
		}
		names = append(names, t.Name)
		tensors[t.Name] = HostTensor{Shape: slices.Clone(t.Shape), F32: data}
	}
	return names, tensors
}

// WriteModel writes the parameters as a Hugging Face model.safetensors
// (metadata {"format": "pt"}). With f16 the trainable tensors are stored
// as F16; the fixed position embeddings stay F32 so they remain exact.
func WriteModel(w io.Writer, cfg Config, lay *Layout, params []float32, f16 bool) error {
	if len(params) != lay.Total {
		return fmt.Errorf("write model: %d parameters for a layout of %d", len(params), lay.Total)
	}
	names, tensors := ParamsToHF(params, cfg, lay)
	half := func(name string) bool {
		t, _ := lay.Lookup(name)
		return f16 && t.Group != GroupFrozen
	}
	return WriteSafetensors(w, names, tensors, map[string]string{"format": "pt"}, half)
}

// SaveModel writes dir/model.safetensors (see WriteModel) and
// dir/config.json, each atomically, creating dir if needed. The result
// loads with transformers.ViTMAEForPreTraining.from_pretrained(dir).
func SaveModel(dir string, cfg Config, lay *Layout, params []float32, f16 bool) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("save model: invalid config: %w", err)
	}
	if len(params) != lay.Total {
		return fmt.Errorf("save model: %d parameters for a layout of %d", len(params), lay.Total)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	err := fileio.WriteAtomic(filepath.Join(dir, ModelFileName), func(w io.Writer) error {
		return WriteModel(w, cfg, lay, params, f16)
	})
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	cj, err := cfg.MarshalHF()
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	err = fileio.WriteAtomic(filepath.Join(dir, ConfigFileName), func(w io.Writer) error {
		_, err := w.Write(cj)
		return err
	})
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// checkConfigSize refuses configurations whose layout would not fit in
// memory or would overflow the size computations; part of Validate.
func checkConfigSize(c Config) error {
	const maxSide = 1 << 15
	for _, v := range []int{c.ImageSize, c.HiddenSize, c.IntermediateSize, c.DecoderHiddenSize, c.DecoderIntermediateSize,
		c.NumHiddenLayers, c.DecoderNumHiddenLayers, c.NumChannels, c.PatchSize} {
		if v > maxSide {
			return fmt.Errorf("configuration too large: a size of %d exceeds %d", v, maxSide)
		}
	}
	// Every size is at most 2^15, so no product below can overflow int64.
	L, D, Dd, PD := c.NumPatches(), c.HiddenSize, c.DecoderHiddenSize, c.PatchDim()
	block := func(d, hidden int) int { return 4*d*d + 2*d*hidden + 9*d + hidden }
	n := PD*D + D + (2+L)*D + c.NumHiddenLayers*block(D, c.IntermediateSize) + 2*D +
		Dd*D + Dd + (2+L)*Dd + c.DecoderNumHiddenLayers*block(Dd, c.DecoderIntermediateSize) + 2*Dd + PD*Dd + PD
	if n > maxParams {
		return fmt.Errorf("configuration too large: %d parameters (limit %d)", n, maxParams)
	}
	return nil
}
