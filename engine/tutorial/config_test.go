package tutorial

import (
	"os"
	"strings"
	"testing"
)

func sharedConfig(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/tutorial/tutorial_mae.config.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseConfig(t *testing.T) {
	data := sharedConfig(t)
	if !IsConfig(data) {
		t.Fatal("IsConfig false for the shared tutorial config")
	}
	c, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.NumPatches() != 64 || c.PatchDim() != 48 || c.Inner() != 64 || c.DecoderInner() != 48 || c.Hidden() != 256 ||
		c.DecoderHidden() != 192 || c.NumMasked(c.MaskingRatio) != 48 || !c.EncToDec() {
		t.Fatalf("derived sizes wrong: %+v", c)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseConfig(out)
	if err != nil || back != c {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if IsConfig([]byte(`{"hidden_size": 64}`)) || IsConfig([]byte(`not json`)) {
		t.Fatal("IsConfig true for a Hugging Face config or garbage")
	}
}

func TestParseConfigErrors(t *testing.T) {
	base := string(sharedConfig(t))
	set := func(field, value string) string {
		i := strings.Index(base, `"`+field+`"`)
		j := i + strings.IndexAny(base[i:], ",\n}")
		return base[:i] + `"` + field + `": ` + value + base[j:]
	}
	for _, c := range []struct{ name, json, want string }{
		{"architecture", set("architecture", `"vit_mae"`), `architecture "vit_mae" is not "vit-pytorch-mae"`},
		{"zero dim", set("dim", "0"), "dim must be positive, got 0"},
		{"negative heads", set("heads", "-2"), "heads must be positive, got -2"},
		{"patch does not divide", set("patch_size", "5"), "patch_size 5 does not divide image_size 32"},
		{"pool mean", set("pool", `"mean"`), `pool "mean" is not supported`},
		{"ratio 1", set("masking_ratio", "1"), "ratio must be in (0, 1)"},
		{"ratio keeps all", set("masking_ratio", "0.001"), "masks no patch of 64"},
		{"huge", set("dim", "40000"), "configuration too large"},
		{"too many parameters", set("depth", "30000"), "configuration too large"},
		{"unknown field", strings.Replace(base, "{", `{"hidden_size": 3,`, 1), `unknown field "hidden_size"`},
		{"dropout", strings.Replace(base, "{", `{"dropout": 0.1,`, 1), "only 0 is supported"},
		{"trailing data", base + "{}", "data after the JSON object"},
		{"not json", "[1,2]", "parse tutorial config"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// FuzzParseConfig: any input gives a valid config or an error, never a
// panic, and accepted configs stay within the size bounds.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/tutorial/tutorial_mae.config.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"architecture":"vit-pytorch-mae","image_size":8,"patch_size":4,"num_classes":1,"dim":8,"depth":1,"heads":1,"dim_head":8,"mlp_dim_ratio":1,"decoder_dim":8}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if c.paramCount() > maxParams || c.Validate() != nil {
			t.Fatalf("accepted an invalid config %+v", c)
		}
	})
}
