package model

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Each way of failing to load a model names its part (LoadError), which
// the page turns into what to do.
func TestLoadErrorParts(t *testing.T) {
	cj, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.timm.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	wrongShape, err := Preset(PresetTiny)
	if err != nil {
		t.Fatal(err)
	}
	wrongJSON, err := wrongShape.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		weights, cj []byte
		want        LoadPart
	}{
		{"garbage weights", []byte("garbage, not safetensors"), cj, PartWeights},
		{"truncated weights", w[:len(w)/2], cj, PartWeights},
		{"config not JSON", w, []byte(`{"hidden_size": 64, "image_size": 32`), PartConfig},
		{"config of another size", w, wrongJSON, PartMismatch},
	} {
		_, _, _, err := LoadModelBytes(c.weights, c.cj)
		var le *LoadError
		if !errors.As(err, &le) || le.Part != c.want {
			t.Errorf("%s: %v (%#v), want part %d", c.name, err, le, c.want)
		}
	}
}
