// Package model holds what defines an MAE independent of any backend: the
// Hugging Face ViTMAE configuration, presets, the flat parameter layout with
// named views, initialisation, and safetensors/checkpoint IO.
package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"webmae/engine/fileio"
)

// Config mirrors the fields of a Hugging Face ViTMAE config.json that
// determine the model. Unknown fields are ignored on read; the fields written
// are enough for transformers.ViTMAEForPreTraining.from_pretrained.
type Config struct {
	ImageSize                int     `json:"image_size"`
	PatchSize                int     `json:"patch_size"`
	NumChannels              int     `json:"num_channels"`
	HiddenSize               int     `json:"hidden_size"`
	NumHiddenLayers          int     `json:"num_hidden_layers"`
	NumAttentionHeads        int     `json:"num_attention_heads"`
	IntermediateSize         int     `json:"intermediate_size"`
	DecoderHiddenSize        int     `json:"decoder_hidden_size"`
	DecoderNumHiddenLayers   int     `json:"decoder_num_hidden_layers"`
	DecoderNumAttentionHeads int     `json:"decoder_num_attention_heads"`
	DecoderIntermediateSize  int     `json:"decoder_intermediate_size"`
	MaskRatio                float64 `json:"mask_ratio"`
	NormPixLoss              bool    `json:"norm_pix_loss"`
	LayerNormEps             float64 `json:"layer_norm_eps"`
	QKVBias                  bool    `json:"qkv_bias"`
	HiddenAct                string  `json:"hidden_act"`
}

// hfConfigFile is the on-disk form: Config plus the constant fields
// transformers expects to find.
type hfConfigFile struct {
	Architectures []string `json:"architectures"`
	ModelType     string   `json:"model_type"`
	Config
	InitializerRange float64 `json:"initializer_range"`
}

// Preset names.
const (
	PresetMicro = "micro"
	PresetTiny  = "tiny"
	PresetBase  = "base"
)

// PresetNames lists the presets in size order.
var PresetNames = []string{PresetMicro, PresetTiny, PresetBase}

// Preset returns the named preset configuration.
func Preset(name string) (Config, error) {
	c := Config{NumChannels: 3, MaskRatio: 0.75, LayerNormEps: 1e-6, QKVBias: true, HiddenAct: "gelu"}
	switch name {
	case PresetMicro: // the shapes of mae_tiny in the PyTorch reference vectors
		c.ImageSize, c.PatchSize = 32, 8
		c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 64, 2, 4, 256
		c.DecoderHiddenSize, c.DecoderNumHiddenLayers, c.DecoderNumAttentionHeads, c.DecoderIntermediateSize = 32, 1, 2, 128
	case PresetTiny: // the demo default
		c.ImageSize, c.PatchSize = 64, 8
		c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 192, 6, 3, 768
		c.DecoderHiddenSize, c.DecoderNumHiddenLayers, c.DecoderNumAttentionHeads, c.DecoderIntermediateSize = 128, 2, 4, 512
	case PresetBase: // facebook/vit-mae-base
		c.ImageSize, c.PatchSize = 224, 16
		c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize = 768, 12, 12, 3072
		c.DecoderHiddenSize, c.DecoderNumHiddenLayers, c.DecoderNumAttentionHeads, c.DecoderIntermediateSize = 512, 8, 16, 2048
		c.LayerNormEps = 1e-12
	default:
		return Config{}, fmt.Errorf("unknown preset %q (have %s)", name, strings.Join(PresetNames, ", "))
	}
	return c, nil
}

// GridSize is the number of patches along one side.
func (c Config) GridSize() int { return c.ImageSize / c.PatchSize }

// NumPatches is L, the number of patches per image.
func (c Config) NumPatches() int { g := c.GridSize(); return g * g }

// PatchDim is P*P*C, the length of one patchified patch.
func (c Config) PatchDim() int { return c.PatchSize * c.PatchSize * c.NumChannels }

// NumKeep is how many patches stay visible at the given ratio, by the
// official rule int(L * (1 - ratio)).
func (c Config) NumKeep(ratio float64) int {
	return int(float64(c.NumPatches()) * (1 - ratio))
}

// Validate reports the first problem that makes the configuration unusable.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	pos("image_size", c.ImageSize)
	pos("patch_size", c.PatchSize)
	pos("num_channels", c.NumChannels)
	pos("hidden_size", c.HiddenSize)
	pos("num_hidden_layers", c.NumHiddenLayers)
	pos("num_attention_heads", c.NumAttentionHeads)
	pos("intermediate_size", c.IntermediateSize)
	pos("decoder_hidden_size", c.DecoderHiddenSize)
	pos("decoder_num_hidden_layers", c.DecoderNumHiddenLayers)
	pos("decoder_num_attention_heads", c.DecoderNumAttentionHeads)
	pos("decoder_intermediate_size", c.DecoderIntermediateSize)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := checkConfigSize(c); err != nil {
		return err
	}
	if c.ImageSize%c.PatchSize != 0 {
		errs = append(errs, fmt.Errorf("patch_size %d does not divide image_size %d", c.PatchSize, c.ImageSize))
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("num_attention_heads %d does not divide hidden_size %d", c.NumAttentionHeads, c.HiddenSize))
	}
	if c.DecoderHiddenSize%c.DecoderNumAttentionHeads != 0 {
		errs = append(errs, fmt.Errorf("decoder_num_attention_heads %d does not divide decoder_hidden_size %d", c.DecoderNumAttentionHeads, c.DecoderHiddenSize))
	}
	if c.HiddenSize%4 != 0 || c.DecoderHiddenSize%4 != 0 {
		errs = append(errs, fmt.Errorf("hidden_size %d and decoder_hidden_size %d must be multiples of 4 for the 2-D sin-cos position embedding", c.HiddenSize, c.DecoderHiddenSize))
	}
	if err := c.ValidateRatio(c.MaskRatio); err != nil {
		errs = append(errs, fmt.Errorf("mask_ratio: %w", err))
	}
	if !(c.LayerNormEps > 0 && c.LayerNormEps < 1) {
		errs = append(errs, fmt.Errorf("layer_norm_eps must be in (0, 1), got %g", c.LayerNormEps))
	}
	if !c.QKVBias {
		errs = append(errs, errors.New("qkv_bias false is not supported (every MAE checkpoint has query/key/value biases)"))
	}
	if c.HiddenAct != "gelu" {
		errs = append(errs, fmt.Errorf("hidden_act %q is not supported (only exact erf \"gelu\")", c.HiddenAct))
	}
	return errors.Join(errs...)
}

// ValidateRatio checks that a masking ratio lies in (0,1) and keeps at least
// one patch visible and masks at least one.
func (c Config) ValidateRatio(ratio float64) error {
	if !(ratio > 0 && ratio < 1) {
		return fmt.Errorf("ratio must be in (0, 1), got %g", ratio)
	}
	if c.ImageSize <= 0 || c.PatchSize <= 0 {
		return nil // reported elsewhere
	}
	keep, l := c.NumKeep(ratio), c.NumPatches()
	if keep < 1 {
		return fmt.Errorf("ratio %g keeps no patch of %d", ratio, l)
	}
	if keep >= l {
		return fmt.Errorf("ratio %g masks no patch of %d", ratio, l)
	}
	return nil
}

// ParseConfig reads a Hugging Face ViTMAE config.json. Absent optional fields
// take the Hugging Face defaults; the result is validated.
func ParseConfig(data []byte) (Config, error) {
	f := hfConfigFile{Config: Config{NumChannels: 3, LayerNormEps: 1e-12, QKVBias: true, HiddenAct: "gelu", MaskRatio: 0.75}}
	if err := json.Unmarshal(data, &f); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	if f.ModelType != "" && f.ModelType != "vit_mae" {
		return Config{}, fmt.Errorf("config model_type %q is not vit_mae", f.ModelType)
	}
	if err := f.Config.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid config: %w", err)
	}
	return f.Config, nil
}

// MaxConfigFileSize bounds config.json (a real one is about 1 KB).
const MaxConfigFileSize = 1 << 20

// LoadConfig reads and validates a config.json file.
func LoadConfig(path string) (Config, error) {
	data, err := fileio.ReadFile(path, MaxConfigFileSize)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// MarshalHF returns the config.json bytes in Hugging Face format.
func (c Config) MarshalHF() ([]byte, error) {
	f := hfConfigFile{Architectures: []string{"ViTMAEForPreTraining"}, ModelType: "vit_mae", Config: c, InitializerRange: 0.02}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal config: %w", err)
	}
	return append(b, '\n'), nil
}

// SaveConfig writes config.json in Hugging Face format.
func (c Config) SaveConfig(path string) error {
	b, err := c.MarshalHF()
	if err != nil {
		return err
	}
	err = fileio.WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
