package tutorial

import (
	"bytes"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"webmae/engine/model"
)

func loadShared(t *testing.T) (Config, *Layout, map[string]model.HostTensor) {
	t.Helper()
	cfg, err := ParseConfig(sharedConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	tensors, _, err := model.LoadSafetensorsFile("../../testdata/tutorial/tutorial_mae.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, NewLayout(cfg), tensors
}

func TestLayoutCoversStateDict(t *testing.T) {
	cfg, lay, tensors := loadShared(t)
	if got := len(lay.Tensors) + 6; got != len(tensors) { // + the six patch_to_emb aliases
		t.Fatalf("layout has %d tensors + 6 aliases, the state_dict %d", len(lay.Tensors), len(tensors))
	}
	if lay.Total != cfg.paramCount() {
		t.Fatalf("layout total %d, paramCount %d", lay.Total, cfg.paramCount())
	}
	frozen := lay.Groups[model.GroupFrozen]
	if frozen.Len != cfg.Dim+cfg.NumClasses*cfg.Dim+cfg.NumClasses || frozen.Off+frozen.Len != lay.Total {
		t.Fatalf("frozen group %+v", frozen)
	}
}

func TestLoadWeightsAliases(t *testing.T) {
	_, lay, tensors := loadShared(t)
	want, err := LoadWeights(tensors, lay)
	if err != nil {
		t.Fatal(err)
	}
	canonical := maps.Clone(tensors)
	alias := maps.Clone(tensors)
	for name := range tensors {
		if strings.HasPrefix(name, aliasPatchPrefix) {
			delete(canonical, name)
		}
		if strings.HasPrefix(name, canonicalPatchPrefix) {
			delete(alias, name)
		}
	}
	for what, m := range map[string]map[string]model.HostTensor{"canonical keys only": canonical, "alias keys only": alias} {
		got, err := LoadWeights(m, lay)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: parameters differ", what)
		}
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	_, lay, tensors := loadShared(t)
	edit := func(f func(m map[string]model.HostTensor)) map[string]model.HostTensor {
		m := maps.Clone(tensors)
		f(m)
		return m
	}
	for _, c := range []struct {
		name string
		in   map[string]model.HostTensor
		want string
	}{
		{"missing", edit(func(m map[string]model.HostTensor) { delete(m, "to_pixels.bias") }), "1 missing: to_pixels.bias"},
		{"mis-shaped", edit(func(m map[string]model.HostTensor) {
			m["mask_token"] = model.HostTensor{Shape: []int{47}, F32: make([]float32, 47)}
		}), "mask_token [47] (want [48])"},
		{"unexpected", edit(func(m map[string]model.HostTensor) { m["extra"] = m["mask_token"] }), "1 unexpected: extra"},
		{"non-finite", edit(func(m map[string]model.HostTensor) {
			v := make([]float32, 48)
			v[3], v[7] = float32(math.NaN()), float32(math.Inf(-1))
			m["mask_token"] = model.HostTensor{Shape: []int{48}, F32: v}
		}), "1 with NaN or infinite values: mask_token (2 of 48 values)"},
		{"conflicting alias", edit(func(m map[string]model.HostTensor) {
			m["patch_to_emb.1.bias"] = model.HostTensor{Shape: []int{64}, F32: make([]float32, 64)}
		}), "differ from their encoder.to_patch_embedding tensor: patch_to_emb.1.bias"},
		{"missing both names", edit(func(m map[string]model.HostTensor) {
			delete(m, "patch_to_emb.0.weight")
			delete(m, "encoder.to_patch_embedding.1.weight")
		}), "1 missing: encoder.to_patch_embedding.1.weight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadWeights(c.in, lay)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestWriteWeightsRoundTrip: the export holds every canonical key (no
// aliases) and reads back to the same parameters.
func TestWriteWeightsRoundTrip(t *testing.T) {
	cfg, lay, tensors := loadShared(t)
	params, err := LoadWeights(tensors, lay)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteWeights(&buf, cfg, lay, params); err != nil {
		t.Fatal(err)
	}
	back, meta, err := model.ReadSafetensors(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if meta["architecture"] != Architecture || len(back) != len(lay.Tensors) {
		t.Fatalf("metadata %v, %d tensors", meta, len(back))
	}
	got, err := LoadWeights(back, lay)
	if err != nil || !slices.Equal(got, params) {
		t.Fatalf("round trip differs: %v", err)
	}
}

// FuzzReadWeights: ReadWeights never panics on a small layout, and what it
// accepts fills the layout with finite values.
func FuzzReadWeights(f *testing.F) {
	cfg := smallConfigs()[1]
	lay := NewLayout(cfg)
	params := make([]float32, lay.Total)
	Init(lay, params, 1)
	var buf bytes.Buffer
	if err := WriteWeights(&buf, cfg, lay, params); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadWeights(data, lay)
		if err != nil {
			return
		}
		if len(got) != lay.Total {
			t.Fatalf("%d values for a layout of %d", len(got), lay.Total)
		}
		for i, v := range got {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
	})
}
