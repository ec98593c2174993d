// Package tutorial is the second model family of the engine: the MAE the
// tutorial in ../shared/seeds builds from lucidrains/vit-pytorch's ViT
// (FrancoisPorcher's fork), with its own config, flat parameter layout under
// the tutorial's state_dict keys, and forward/backward written once against
// backend.Kernels like engine/mae. testdata/tutorial/README.md spells out
// where its semantics differ from the official MAE.
package tutorial

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Architecture is the value of "architecture" in config.json that selects
// this family.
const Architecture = "vit-pytorch-mae"

// Size bounds, the same as the Hugging Face config's (engine/model).
const (
	maxSide   = 1 << 15
	maxParams = 1 << 30
)

// LayerNormEps is PyTorch's nn.LayerNorm default, which the tutorial uses.
const LayerNormEps = 1e-5

// Config holds the tutorial's constructor arguments: ViT(...) and MAE(...).
type Config struct {
	Architecture   string  `json:"architecture"`
	ImageSize      int     `json:"image_size"`
	PatchSize      int     `json:"patch_size"`
	Channels       int     `json:"channels"`
	NumClasses     int     `json:"num_classes"`
	Dim            int     `json:"dim"`
	Depth          int     `json:"depth"`
	Heads          int     `json:"heads"`
	DimHead        int     `json:"dim_head"`
	MlpDimRatio    int     `json:"mlp_dim_ratio"`
	Pool           string  `json:"pool"`
	DecoderDim     int     `json:"decoder_dim"`
	DecoderDepth   int     `json:"decoder_depth"`
	DecoderHeads   int     `json:"decoder_heads"`
	DecoderDimHead int     `json:"decoder_dim_head"`
	MaskingRatio   float64 `json:"masking_ratio"`
	// Dropout and EmbDropout are ViT arguments; only 0 (the default) is
	// supported.
	Dropout    float64 `json:"dropout,omitempty"`
	EmbDropout float64 `json:"emb_dropout,omitempty"`
}

// DecoderMlpRatio is the decoder's MLP width ratio, fixed by the tutorial's
// MAE class (Transformer(..., mlp_dim_ratio=4)).
const DecoderMlpRatio = 4

// GridSize is the number of patches along one side.
func (c Config) GridSize() int { return c.ImageSize / c.PatchSize }

// NumPatches is L, the number of patches per image.
func (c Config) NumPatches() int { g := c.GridSize(); return g * g }

// PatchDim is P*P*C, the length of one patch.
func (c Config) PatchDim() int { return c.PatchSize * c.PatchSize * c.Channels }

// Inner is the encoder attention width heads*dim_head.
func (c Config) Inner() int { return c.Heads * c.DimHead }

// DecoderInner is the decoder attention width.
func (c Config) DecoderInner() int { return c.DecoderHeads * c.DecoderDimHead }

// Hidden is the encoder MLP width dim*mlp_dim_ratio.
func (c Config) Hidden() int { return c.Dim * c.MlpDimRatio }

// DecoderHidden is the decoder MLP width.
func (c Config) DecoderHidden() int { return c.DecoderDim * DecoderMlpRatio }

// NumMasked is how many patches the tutorial masks at ratio:
// int(ratio * L), the first ones of the argsort of the noise.
func (c Config) NumMasked(ratio float64) int { return int(ratio * float64(c.NumPatches())) }

// NumKeep is how many patches stay visible at ratio.
func (c Config) NumKeep(ratio float64) int { return c.NumPatches() - c.NumMasked(ratio) }

// ProjectOut reports whether an attention has its to_out Linear: the
// tutorial's ViT uses an identity when heads == 1 and dim_head == dim.
func ProjectOut(heads, dimHead, dim int) bool { return !(heads == 1 && dimHead == dim) }

// EncToDec reports whether enc_to_dec is a Linear (an identity when the
// encoder and decoder widths agree).
func (c Config) EncToDec() bool { return c.Dim != c.DecoderDim }

// Validate reports every problem that makes the configuration unusable.
func (c Config) Validate() error {
	var errs []error
	pos := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	if c.Architecture != Architecture {
		errs = append(errs, fmt.Errorf("architecture %q is not %q", c.Architecture, Architecture))
	}
	pos("image_size", c.ImageSize)
	pos("patch_size", c.PatchSize)
	pos("channels", c.Channels)
	pos("dim", c.Dim)
	pos("depth", c.Depth)
	pos("heads", c.Heads)
	pos("dim_head", c.DimHead)
	pos("mlp_dim_ratio", c.MlpDimRatio)
	pos("decoder_dim", c.DecoderDim)
	pos("decoder_depth", c.DecoderDepth)
	pos("decoder_heads", c.DecoderHeads)
	pos("decoder_dim_head", c.DecoderDimHead)
	pos("num_classes", c.NumClasses) // the unused mlp_head is part of the state_dict
	if c.Dropout != 0 || c.EmbDropout != 0 {
		errs = append(errs, fmt.Errorf("dropout %g and emb_dropout %g: only 0 is supported", c.Dropout, c.EmbDropout))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := c.checkSize(); err != nil {
		return err
	}
	if c.ImageSize%c.PatchSize != 0 {
		errs = append(errs, fmt.Errorf("patch_size %d does not divide image_size %d", c.PatchSize, c.ImageSize))
	}
	if c.Pool != "cls" {
		// The tutorial adds pos_embedding[:, 1:] only for "cls"; with "mean"
		// it adds all n+1 rows to n tokens, which fails in PyTorch too.
		errs = append(errs, fmt.Errorf("pool %q is not supported (the tutorial's MAE runs only with \"cls\")", c.Pool))
	}
	if err := c.ValidateRatio(c.MaskingRatio); err != nil {
		errs = append(errs, fmt.Errorf("masking_ratio: %w", err))
	}
	return errors.Join(errs...)
}

// ValidateRatio checks that ratio lies in (0, 1) and, by the tutorial's rule
// int(ratio * L), masks at least one patch and keeps at least one.
func (c Config) ValidateRatio(ratio float64) error {
	if !(ratio > 0 && ratio < 1) {
		return fmt.Errorf("ratio must be in (0, 1), got %g", ratio)
	}
	if c.ImageSize <= 0 || c.PatchSize <= 0 {
		return nil // reported elsewhere
	}
	nm, l := c.NumMasked(ratio), c.NumPatches()
	if nm < 1 {
		return fmt.Errorf("ratio %g masks no patch of %d", ratio, l)
	}
	if nm >= l {
		return fmt.Errorf("ratio %g keeps no patch of %d", ratio, l)
	}
	return nil
}

// checkSize refuses configurations whose layout would not fit in memory or
// would overflow the size computations.
func (c Config) checkSize() error {
	for _, v := range []int{c.ImageSize, c.PatchSize, c.Channels, c.NumClasses, c.Dim, c.Depth, c.Heads, c.DimHead, c.MlpDimRatio,
		c.DecoderDim, c.DecoderDepth, c.DecoderHeads, c.DecoderDimHead} {
		if v > maxSide {
			return fmt.Errorf("configuration too large: a size of %d exceeds %d", v, maxSide)
		}
	}
	// Every factor is at most 2^15: the largest terms of paramCount are
	// products of four (depth*heads*dim_head*dim), below 2^60, and there
	// are few enough of them that the sum stays in int64.
	n := c.paramCount()
	if n > maxParams {
		return fmt.Errorf("configuration too large: %d parameters (limit %d)", n, maxParams)
	}
	return nil
}

// paramCount is the number of elements of the state_dict.
func (c Config) paramCount() int {
	L, D, Dd, PD := c.NumPatches(), c.Dim, c.DecoderDim, c.PatchDim()
	block := func(d, inner, hidden int, proj bool) int {
		n := 2*d + 3*inner*d + 2*d + hidden*d + hidden + d*hidden + d
		if proj {
			n += d*inner + d
		}
		return n
	}
	n := 2*PD + D*PD + D + 2*D + D + (L+1)*D + c.Depth*block(D, c.Inner(), c.Hidden(), ProjectOut(c.Heads, c.DimHead, D)) + 2*D +
		c.NumClasses*D + c.NumClasses
	if c.EncToDec() {
		n += Dd*D + Dd
	}
	n += Dd + (L+1)*Dd + c.DecoderDepth*block(Dd, c.DecoderInner(), c.DecoderHidden(), ProjectOut(c.DecoderHeads, c.DecoderDimHead, Dd)) + 2*Dd +
		PD*Dd + PD
	return n
}

// IsConfig reports whether config.json bytes name this family's
// architecture (they may still be invalid: ParseConfig says why).
func IsConfig(data []byte) bool {
	var probe struct {
		Architecture *string `json:"architecture"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.Architecture == nil {
		return false
	}
	return *probe.Architecture == Architecture
}

// ParseConfig reads and validates a tutorial config.json. Absent fields
// take the defaults of the tutorial's constructors (channels 3, dim_head 64,
// pool "cls", masking_ratio 0.75, decoder_depth 1, decoder_heads 8,
// decoder_dim_head 64); unknown fields are refused, so that a misspelt
// argument is not silently replaced by its default.
func ParseConfig(data []byte) (Config, error) {
	c := Config{Channels: 3, DimHead: 64, Pool: "cls", MaskingRatio: 0.75,
		DecoderDepth: 1, DecoderHeads: 8, DecoderDimHead: 64}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("parse tutorial config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, errors.New("parse tutorial config: data after the JSON object")
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid tutorial config: %w", err)
	}
	return c, nil
}

// LoadConfig reads and validates a tutorial config.json file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Marshal returns config.json bytes with the architecture field.
func (c Config) Marshal() ([]byte, error) {
	c.Architecture = Architecture
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal tutorial config: %w", err)
	}
	return append(b, '\n'), nil
}
