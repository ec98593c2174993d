package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Published is a released MAE configuration under its Hugging Face id.
type Published struct {
	Name string
	Config
}

// PublishedConfigs returns the released MAE sizes as in the config.json of
// facebook/vit-mae-base, -large and -huge (224 px; the official
// mae_visualize_vit_*.pth have the same shapes).
func PublishedConfigs() []Published {
	mk := func(name string, p, d, depth, heads int) Published {
		return Published{Name: name, Config: Config{ImageSize: 224, PatchSize: p, NumChannels: 3,
			HiddenSize: d, NumHiddenLayers: depth, NumAttentionHeads: heads, IntermediateSize: 4 * d,
			DecoderHiddenSize: 512, DecoderNumHiddenLayers: 8, DecoderNumAttentionHeads: 16, DecoderIntermediateSize: 2048,
			MaskRatio: 0.75, LayerNormEps: 1e-12, QKVBias: true, HiddenAct: "gelu"}}
	}
	return []Published{
		mk("facebook/vit-mae-base", 16, 768, 12, 12),
		mk("facebook/vit-mae-large", 16, 1024, 24, 16),
		mk("facebook/vit-mae-huge", 14, 1280, 32, 16),
	}
}

// shapeNames are the tensors InferConfig reads, per naming convention.
type shapeNames struct {
	patch, pos, block, fc1, decEmbed, decBlock, decFC1 string
	eps                                                float64
}

var inferNames = map[WeightFormat]shapeNames{
	FormatOfficial: {"patch_embed.proj.weight", "pos_embed", "blocks.", "mlp.fc1.weight",
		"decoder_embed.weight", "decoder_blocks.", "mlp.fc1.weight", 1e-6},
	FormatHF: {PatchEmbedName, PosEmbedName, "vit.encoder.layer.", "intermediate.dense.weight",
		"decoder.decoder_embed.weight", "decoder.decoder_layers.", "intermediate.dense.weight", 1e-12},
}

// InferConfig derives the config of a checkpoint published without one
// (the official .pth files) from its tensor shapes: widths, depths, patch,
// channel and image sizes. Shapes do not show the attention head counts:
// they are those of the published model of the same width (see
// PublishedConfigs), and other widths are refused. layer_norm_eps is the
// convention's (1e-6 official, 1e-12 Hugging Face), norm_pix_loss false.
func InferConfig(tensors map[string]HostTensor) (Config, error) {
	tensors = addViTPrefix(StripCommonPrefix(tensors))
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	format, err := DetectWeightFormat(names)
	if err != nil {
		return Config{}, fmt.Errorf("infer config: %w", err)
	}
	sn := inferNames[format]
	shape := func(name string, rank int) ([]int, error) {
		t, ok := tensors[name]
		if !ok || len(t.Shape) != rank {
			return nil, fmt.Errorf("infer config: no %d-D tensor %s", rank, name)
		}
		return t.Shape, nil
	}
	depth := func(prefix string) int {
		n := 0
		for _, name := range names {
			if rest, ok := strings.CutPrefix(name, prefix); ok {
				if i, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '.'), 0)]); err == nil {
					n = max(n, i+1)
				}
			}
		}
		return n
	}
	if _, ok := tensors[sn.decEmbed]; !ok {
		return Config{}, fmt.Errorf("infer config: %w", encoderOnly(format))
	}
	patch, err1 := shape(sn.patch, 4)
	pos, err2 := shape(sn.pos, 3)
	fc1, err3 := shape(sn.block+"0."+sn.fc1, 2)
	dec, err4 := shape(sn.decEmbed, 2)
	dfc1, err5 := shape(sn.decBlock+"0."+sn.decFC1, 2)
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return Config{}, err
		}
	}
	grid := int(math.Sqrt(float64(pos[1] - 1)))
	if grid < 1 || grid*grid != pos[1]-1 || patch[2] != patch[3] {
		return Config{}, fmt.Errorf("infer config: position embedding %v and patch embedding %v are not a square grid", pos, patch)
	}
	c := Config{ImageSize: grid * patch[2], PatchSize: patch[2], NumChannels: patch[1],
		HiddenSize: patch[0], NumHiddenLayers: depth(sn.block), IntermediateSize: fc1[0],
		DecoderHiddenSize: dec[0], DecoderNumHiddenLayers: depth(sn.decBlock), DecoderIntermediateSize: dfc1[0],
		MaskRatio: 0.75, LayerNormEps: sn.eps, QKVBias: true, HiddenAct: "gelu"}
	for _, p := range PublishedConfigs() {
		if p.HiddenSize == c.HiddenSize {
			c.NumAttentionHeads = p.NumAttentionHeads
		}
		if p.DecoderHiddenSize == c.DecoderHiddenSize {
			c.DecoderNumAttentionHeads = p.DecoderNumAttentionHeads
		}
	}
	if c.NumAttentionHeads == 0 || c.DecoderNumAttentionHeads == 0 {
		return Config{}, fmt.Errorf("infer config: the attention head counts of a %d-wide encoder and %d-wide decoder are not in the weights "+
			"and match no published MAE; pass a config.json", c.HiddenSize, c.DecoderHiddenSize)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("infer config: %w", err)
	}
	return c, nil
}
