package model

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPresetsValid(t *testing.T) {
	for _, name := range PresetNames {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
		if err := checkConfigSize(c); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
		b, err := c.MarshalHF()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(b)
		if err != nil {
			t.Fatalf("preset %s: %v\n%s", name, err, b)
		}
		if back != c {
			t.Errorf("preset %s: round trip gives %+v, want %+v", name, back, c)
		}
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "micro, tiny, base") {
		t.Errorf("unknown preset: %v", err)
	}
}

// The micro preset has the shapes of the reference vectors.
func TestMicroMatchesReference(t *testing.T) {
	ref, err := LoadConfig(filepath.Join(refDir, "mae_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	micro, _ := Preset(PresetMicro)
	if ref != micro {
		t.Errorf("reference %+v\nmicro     %+v", ref, micro)
	}
	np, err := LoadConfig(filepath.Join(refDir, "mae_tiny_normpix.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !np.NormPixLoss || np.LayerNormEps != 1e-12 {
		t.Errorf("normpix config: %+v", np)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(`{"image_size":32,"patch_size":8,"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,
		"intermediate_size":128,"decoder_hidden_size":32,"decoder_num_hidden_layers":1,"decoder_num_attention_heads":2,
		"decoder_intermediate_size":64,"some_unknown_field":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.NumChannels != 3 || c.LayerNormEps != 1e-12 || !c.QKVBias || c.HiddenAct != "gelu" || c.MaskRatio != 0.75 || c.NormPixLoss {
		t.Errorf("defaults: %+v", c)
	}
	if c.GridSize() != 4 || c.NumPatches() != 16 || c.PatchDim() != 192 || c.NumKeep(0.75) != 4 {
		t.Errorf("derived sizes: %d %d %d %d", c.GridSize(), c.NumPatches(), c.PatchDim(), c.NumKeep(0.75))
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := `"image_size":32,"patch_size":8,"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"intermediate_size":256,` +
		`"decoder_hidden_size":32,"decoder_num_hidden_layers":1,"decoder_num_attention_heads":2,"decoder_intermediate_size":128`
	with := func(extra string) []byte { return []byte("{" + base + "," + extra + "}") }
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte(`{`), "parse config"},
		{"wrong type", with(`"hidden_size":"64"`), "parse config"},
		{"model type", with(`"model_type":"vit"`), `model_type "vit" is not vit_mae`},
		{"zero size", with(`"hidden_size":0`), "hidden_size must be positive, got 0"},
		{"missing field", []byte(`{"image_size":32}`), "patch_size must be positive"},
		{"negative layers", with(`"decoder_num_hidden_layers":-1`), "decoder_num_hidden_layers must be positive"},
		{"patch", with(`"patch_size":7`), "patch_size 7 does not divide image_size 32"},
		{"heads", with(`"num_attention_heads":3`), "num_attention_heads 3 does not divide hidden_size 64"},
		{"decoder heads", with(`"decoder_num_attention_heads":3`), "decoder_num_attention_heads 3 does not divide"},
		{"sincos", with(`"hidden_size":66,"num_attention_heads":2`), "multiples of 4"},
		{"ratio", with(`"mask_ratio":1`), "mask_ratio: ratio must be in (0, 1)"},
		{"ratio keeps none", with(`"mask_ratio":0.99`), "keeps no patch"},
		{"ratio masks none", with(`"mask_ratio":1e-17`), "masks no patch"},
		{"eps", with(`"layer_norm_eps":0`), "layer_norm_eps must be in (0, 1)"},
		{"qkv bias", with(`"qkv_bias":false`), "qkv_bias false"},
		{"act", with(`"hidden_act":"relu"`), `hidden_act "relu"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	if _, err := ParseConfig(with(`"model_type":"vit_mae","architectures":["ViTMAEForPreTraining"]`)); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestValidateRatio(t *testing.T) {
	c, _ := Preset(PresetMicro) // 16 patches
	for ratio, ok := range map[float64]bool{0.75: true, 0.5: true, 0.9: true, 0.95: false, 0: false, 1: false, -0.1: false, 0.05: true, 1e-17: false} {
		if err := c.ValidateRatio(ratio); (err == nil) != ok {
			t.Errorf("ratio %g: %v", ratio, err)
		}
	}
}

func TestSaveLoadConfig(t *testing.T) {
	c, _ := Preset(PresetTiny)
	c.NormPixLoss, c.MaskRatio = true, 0.6
	path := filepath.Join(t.TempDir(), "config.json")
	if err := c.SaveConfig(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, want := range []string{`"model_type": "vit_mae"`, `"ViTMAEForPreTraining"`, `"initializer_range": 0.02`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("config.json lacks %s", want)
		}
	}
	back, err := LoadConfig(path)
	if err != nil || back != c {
		t.Errorf("LoadConfig: %+v, %v", back, err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"hidden_size":1}`), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v", err)
	}
}

// FuzzParseConfig checks that ParseConfig never panics and that every
// accepted config is valid and survives MarshalHF -> ParseConfig.
func FuzzParseConfig(f *testing.F) {
	for _, name := range PresetNames {
		c, _ := Preset(name)
		b, _ := c.MarshalHF()
		f.Add(b)
	}
	f.Add([]byte(`{"image_size":32,"patch_size":8,"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":1,"decoder_hidden_size":4,"decoder_num_hidden_layers":1,"decoder_num_attention_heads":1,"decoder_intermediate_size":1,"mask_ratio":0.5}`))
	f.Add([]byte(`{"image_size":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted an invalid config: %v", err)
		}
		b, err := c.MarshalHF()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(b)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, b)
		}
		if back != c {
			t.Fatalf("round trip: %+v != %+v", back, c)
		}
	})
}
