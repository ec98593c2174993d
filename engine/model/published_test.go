package model

import (
	"errors"
	"strings"
	"testing"
)

// shapesOnly lists a layout's tensors under the given convention's names,
// with shapes and no data (InferConfig reads only shapes).
func shapesOnly(c Config, format WeightFormat) map[string]HostTensor {
	lay := NewLayout(c)
	slots := hfSlots(c, lay)
	if format == FormatOfficial {
		slots = officialSlots(c, lay)
	}
	out := make(map[string]HostTensor, len(slots))
	for _, s := range slots {
		out["module."+s.name] = HostTensor{Shape: s.shape}
	}
	return out
}

func TestInferConfigPublished(t *testing.T) {
	for _, p := range PublishedConfigs() {
		for _, format := range []WeightFormat{FormatOfficial, FormatHF} {
			got, err := InferConfig(shapesOnly(p.Config, format))
			if err != nil {
				t.Fatalf("%s (%s names): %v", p.Name, format, err)
			}
			want := p.Config
			if format == FormatOfficial {
				want.LayerNormEps = 1e-6 // the official code's LayerNorm
			}
			if got != want {
				t.Errorf("%s (%s names): inferred %+v, want %+v", p.Name, format, got, want)
			}
		}
	}
}

func TestInferConfigRefusals(t *testing.T) {
	if _, err := InferConfig(loadRef(t, "mae_tiny.timm.safetensors")); err == nil || !strings.Contains(err.Error(), "pass a config.json") {
		t.Errorf("64-wide encoder: %v", err)
	}
	base := PublishedConfigs()[0].Config
	enc := shapesOnly(base, FormatOfficial)
	for name := range enc {
		if isDecoderName(strings.TrimPrefix(name, "module."), FormatOfficial) {
			delete(enc, name)
		}
	}
	if _, err := InferConfig(enc); !errors.Is(err, ErrEncoderOnly) {
		t.Errorf("encoder only: %v", err)
	}
	noPos := shapesOnly(base, FormatHF)
	delete(noPos, "module."+PosEmbedName)
	if _, err := InferConfig(noPos); err == nil || !strings.Contains(err.Error(), PosEmbedName) {
		t.Errorf("no position embedding: %v", err)
	}
}
