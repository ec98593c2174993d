package model

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var refNames = []string{"mae_tiny", "mae_tiny_normpix"}

func loadRef(t *testing.T, file string) map[string]HostTensor {
	t.Helper()
	tensors, _, err := LoadSafetensorsFile(filepath.Join(refDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return tensors
}

func refConfig(t *testing.T, name string) (Config, *Layout) {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join(refDir, name+".config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, NewLayout(cfg)
}

func TestLoadReferenceBothFormats(t *testing.T) {
	for _, name := range refNames {
		t.Run(name, func(t *testing.T) {
			cfg, lay := refConfig(t, name)
			hf, fhf, err := LoadWeights(loadRef(t, name+".safetensors"), cfg, lay)
			if err != nil {
				t.Fatal(err)
			}
			off, foff, err := LoadWeights(loadRef(t, name+".timm.safetensors"), cfg, lay)
			if err != nil {
				t.Fatal(err)
			}
			if fhf != FormatHF || foff != FormatOfficial {
				t.Errorf("formats %v, %v", fhf, foff)
			}
			if !equalBits(hf, off) {
				for i := range hf {
					if hf[i] != off[i] {
						t.Fatalf("HF and official params differ first at %d: %g vs %g", i, hf[i], off[i])
					}
				}
			}
			// LoadModel finds NAME.config.json beside both files.
			for _, file := range []string{name + ".safetensors", name + ".timm.safetensors"} {
				c2, p2, _, err := LoadModel(filepath.Join(refDir, file))
				if err != nil {
					t.Fatal(err)
				}
				if c2 != cfg || !equalBits(p2, hf) {
					t.Errorf("LoadModel(%s) differs from LoadWeights", file)
				}
			}
		})
	}
}

// The stored position embeddings are the fixed 2-D sin-cos tables.
func TestReferencePosEmbedIsSinCos2D(t *testing.T) {
	for _, name := range refNames {
		cfg, _ := refConfig(t, name)
		ref := loadRef(t, name+".safetensors")
		for tname, dim := range map[string]int{PosEmbedName: cfg.HiddenSize, DecPosName: cfg.DecoderHiddenSize} {
			want := SinCos2D(dim, cfg.GridSize())
			got := ref[tname].F32
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d values, SinCos2D gives %d", name, tname, len(got), len(want))
			}
			worst, at := 0.0, 0
			for i := range got {
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > worst {
					worst, at = d, i
				}
			}
			if worst > 1e-6 {
				t.Errorf("%s %s: differs from SinCos2D by %g at row %d col %d (file %g, SinCos2D %g)",
					name, tname, worst, at/dim, at%dim, got[at], want[at])
			}
		}
	}
}

// ParamsToHF gives back the reference file exactly: names, shapes, values.
func TestParamsToHFMatchesReference(t *testing.T) {
	cfg, lay := refConfig(t, "mae_tiny")
	ref := loadRef(t, "mae_tiny.safetensors")
	params, _, err := LoadWeights(ref, cfg, lay)
	if err != nil {
		t.Fatal(err)
	}
	names, tensors := ParamsToHF(params, cfg, lay)
	if len(names) != len(ref) || len(tensors) != len(ref) {
		t.Fatalf("%d names, %d tensors; file has %d", len(names), len(tensors), len(ref))
	}
	for _, n := range names {
		got, want := tensors[n], ref[n]
		if !slices.Equal(got.Shape, want.Shape) || !equalBits(got.F32, want.F32) {
			t.Errorf("%s: shape %v vs %v or values differ", n, got.Shape, want.Shape)
		}
	}
}

func TestPermutePatchWeight(t *testing.T) {
	d, c, p := 2, 3, 4
	conv := make([]float32, d*c*p*p)
	for i := range conv {
		conv[i] = float32(i)
	}
	flat := PermutePatchWeightFromConv(conv, d, c, p)
	for o := 0; o < d; o++ {
		for ch := 0; ch < c; ch++ {
			for r := 0; r < p; r++ {
				for col := 0; col < p; col++ {
					// flat (D, P, P, C), channel fastest; conv (D, C, P, P).
					if flat[((o*p+r)*p+col)*c+ch] != conv[((o*c+ch)*p+r)*p+col] {
						t.Fatalf("mismatch at o=%d c=%d r=%d col=%d", o, ch, r, col)
					}
				}
			}
		}
	}
	if back := PermutePatchWeightToConv(flat, d, c, p); !slices.Equal(back, conv) {
		t.Error("ToConv does not invert FromConv")
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic on a length mismatch")
		}
	}()
	PermutePatchWeightToConv(conv[1:], d, c, p)
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, err := Preset(PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	lay := NewLayout(cfg)
	params := make([]float32, lay.Total)
	Init(cfg, lay, params, 7)
	dir := t.TempDir()

	if err := SaveModel(dir, cfg, lay, params, false); err != nil {
		t.Fatal(err)
	}
	c2, p2, format, err := LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c2 != cfg || format != FormatHF || !equalBits(p2, params) {
		t.Fatalf("F32 round trip: config equal %v, format %v, params equal %v", c2 == cfg, format, equalBits(p2, params))
	}
	first, _ := os.ReadFile(filepath.Join(dir, ModelFileName))
	if err := SaveModel(dir, cfg, lay, params, false); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, ModelFileName))
	if !bytes.Equal(first, second) {
		t.Error("saving twice gives different bytes")
	}
	tensors, meta, err := ReadSafetensors(first)
	if err != nil || meta["format"] != "pt" || len(tensors) != len(lay.Tensors) {
		t.Fatalf("file: %d tensors, metadata %v, %v", len(tensors), meta, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFileName)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2", len(entries))
	}

	// F16: trainable tensors rounded to half, position embeddings exact.
	dir16 := filepath.Join(dir, "f16")
	if err := SaveModel(dir16, cfg, lay, params, true); err != nil {
		t.Fatal(err)
	}
	_, p16, _, err := LoadModel(filepath.Join(dir16, ModelFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, ten := range lay.Tensors {
		for i := ten.Off; i < ten.Off+ten.Len; i++ {
			want := params[i]
			if ten.Group != GroupFrozen {
				want = F16ToF32(F32ToF16(want))
			}
			if p16[i] != want {
				t.Fatalf("%s[%d]: F16 round trip %g -> %g, want %g", ten.Name, i-ten.Off, params[i], p16[i], want)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir16, ModelFileName)); err != nil || fi.Size() > int64(len(first))*6/10 {
		t.Errorf("F16 file is not about half the F32 one: %v", err)
	}
}

func TestLoadModelBytes(t *testing.T) {
	cj, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.timm.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, params, format, err := LoadModelBytes(w, cj)
	if err != nil || format != FormatOfficial || len(params) != NewLayout(cfg).Total {
		t.Fatalf("%v %v %d", err, format, len(params))
	}
	if _, _, _, err := LoadModelBytes(w[:100], cj); err == nil {
		t.Error("truncated weights: no error")
	}
	if _, _, _, err := LoadModelBytes(w, []byte("{}")); err == nil {
		t.Error("empty config: no error")
	}
}

func TestLoadModelConfigResolution(t *testing.T) {
	dir := t.TempDir()
	w, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "weights.v2.safetensors")
	if err := os.WriteFile(path, w, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = LoadModel(path)
	if err == nil || !strings.Contains(err.Error(), "weights.v2.config.json") || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("no config: %v", err)
	}
	// An explicit config path.
	if _, _, _, err := LoadModelWithConfig(path, filepath.Join(refDir, "mae_tiny.config.json")); err != nil {
		t.Fatal(err)
	}
	// A config that does not match the weights reports mis-shaped tensors.
	big, _ := Preset(PresetTiny)
	if err := big.SaveConfig(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = LoadModel(path)
	if err == nil || !strings.Contains(err.Error(), "61 mis-shaped") || !strings.Contains(err.Error(), "does the config match") {
		t.Errorf("mismatched config: %v", err)
	}
	if _, _, _, err := LoadModel(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing path: no error")
	}
	huge := big
	huge.HiddenSize, huge.NumAttentionHeads, huge.IntermediateSize = 1<<15, 1, 1<<15
	if err := huge.SaveConfig(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := LoadModel(path); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge config: %v", err)
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	cfg, lay := refConfig(t, "mae_tiny")
	hf := loadRef(t, "mae_tiny.safetensors")
	off := loadRef(t, "mae_tiny.timm.safetensors")
	edit := func(src map[string]HostTensor, f func(m map[string]HostTensor)) map[string]HostTensor {
		m := maps.Clone(src)
		f(m)
		return m
	}
	q := "vit.encoder.layer.1.attention.attention.query.weight"
	cases := []struct {
		name    string
		tensors map[string]HostTensor
		want    []string
	}{
		{"missing", edit(hf, func(m map[string]HostTensor) { delete(m, q) }), []string{"1 missing", q}},
		{"unexpected", edit(hf, func(m map[string]HostTensor) { m["vit.pooler.dense.weight"] = m[q] }), []string{"1 unexpected", "vit.pooler.dense.weight"}},
		{"mis-shaped", edit(hf, func(m map[string]HostTensor) {
			m[q] = HostTensor{Shape: []int{32, 128}, F32: m[q].F32}
		}), []string{"1 mis-shaped", q, "[32 128] (want [64 64])"}},
		{"int", edit(hf, func(m map[string]HostTensor) {
			m["decoder.decoder_pred.bias"] = HostTensor{Shape: []int{192}, I64: make([]int64, 192)}
		}), []string{"decoder.decoder_pred.bias int64 (want float)"}},
		{"official missing", edit(off, func(m map[string]HostTensor) { delete(m, "blocks.0.attn.qkv.bias") }), []string{"official MAE names", "blocks.0.attn.qkv.bias"}},
		{"official extra", edit(off, func(m map[string]HostTensor) { m["head.weight"] = m["norm.weight"] }), []string{"unexpected", "head.weight"}},
		{"official mis-shaped", edit(off, func(m map[string]HostTensor) {
			m["blocks.0.attn.qkv.weight"] = HostTensor{Shape: []int{64, 192}, F32: m["blocks.0.attn.qkv.weight"].F32}
		}), []string{"blocks.0.attn.qkv.weight [64 192] (want [192 64])"}},
		{"mixed", edit(hf, func(m map[string]HostTensor) { m["cls_token"] = m[ClsTokenName] }), []string{"mix"}},
		{"unknown", map[string]HostTensor{"foo": {}, "bar": {}}, []string{"bar, foo"}},
		{"empty", map[string]HostTensor{}, []string{"among 0 tensors"}},
		{"several", edit(hf, func(m map[string]HostTensor) {
			delete(m, q)
			m["extra"] = m[ClsTokenName]
			m[MaskTokenName] = HostTensor{Shape: []int{1, 32}, F32: m[MaskTokenName].F32}
		}), []string{"1 missing", "1 mis-shaped", "1 unexpected", q, "extra", MaskTokenName}},
	}
	// Capped list: every encoder tensor renamed.
	renamed := map[string]HostTensor{}
	for n, ten := range hf {
		renamed[strings.Replace(n, "vit.encoder.", "vit.encoders.", 1)] = ten
	}
	cases = append(cases, struct {
		name    string
		tensors map[string]HostTensor
		want    []string
	}{"capped", renamed, []string{"32 missing", "and 24 more", "32 unexpected", "config match"}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params, _, err := LoadWeights(c.tensors, cfg, lay)
			if err == nil {
				t.Fatal("no error")
			}
			if params != nil {
				t.Error("params returned with an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadWeightsLenient(t *testing.T) {
	cfg, lay := refConfig(t, "mae_tiny")
	for _, file := range []string{"mae_tiny.safetensors", "mae_tiny.timm.safetensors"} {
		src := loadRef(t, file)
		want, _, err := LoadWeights(src, cfg, lay)
		if err != nil {
			t.Fatal(err)
		}
		// Position embeddings may be absent: they are computed.
		noPos := maps.Clone(src)
		for _, n := range []string{PosEmbedName, DecPosName, "pos_embed", "decoder_pos_embed"} {
			delete(noPos, n)
		}
		got, _, err := LoadWeights(noPos, cfg, lay)
		if err != nil {
			t.Fatal(err)
		}
		s := lay.Spans
		for _, sp := range []Span{s.Pos, s.DecPos} {
			for i := sp.Off; i < sp.Off+sp.Len; i++ {
				if math.Abs(float64(got[i]-want[i])) > 1e-6 {
					t.Fatalf("%s: computed position embedding differs at %d", file, i)
				}
			}
		}
		// A prefix shared by every key is stripped.
		for _, prefix := range []string{"module.", "model."} {
			pre := map[string]HostTensor{}
			for n, ten := range src {
				pre[prefix+n] = ten
			}
			got, _, err := LoadWeights(pre, cfg, lay)
			if err != nil || !equalBits(got, want) {
				t.Errorf("%s with %q prefix: %v", file, prefix, err)
			}
		}
	}
}

func TestWeightFormatString(t *testing.T) {
	if FormatHF.String() != "Hugging Face" || FormatOfficial.String() != "official MAE" || WeightFormat(9).String() != "WeightFormat(9)" {
		t.Error("String")
	}
}

func TestSaveModelErrors(t *testing.T) {
	cfg, _ := Preset(PresetMicro)
	lay := NewLayout(cfg)
	if err := SaveModel(t.TempDir(), cfg, lay, make([]float32, 3), false); err == nil {
		t.Error("short params: no error")
	}
	bad := cfg
	bad.HiddenAct = "relu"
	if err := SaveModel(t.TempDir(), bad, lay, make([]float32, lay.Total), false); err == nil {
		t.Error("invalid config: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(file, cfg, lay, make([]float32, lay.Total), false); err == nil {
		t.Error("dir is a file: no error")
	}
}

// Saving the official-named reference reproduces the Hugging Face
// reference file (written by PyTorch's safetensors): the same data section
// byte for byte and the same header apart from key order.
func TestSaveModelMatchesPyTorchFile(t *testing.T) {
	cfg, params, _, err := LoadModel(filepath.Join(refDir, "mae_tiny.timm.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := SaveModel(dir, cfg, NewLayout(cfg), params, false); err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile(filepath.Join(dir, ModelFileName))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(filepath.Join(refDir, "mae_tiny.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	oursEntries, oursMeta, err := checkSafetensors(ours)
	if err != nil {
		t.Fatal(err)
	}
	refEntries, refMeta, err := checkSafetensors(ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(ref) || !maps.Equal(oursMeta, refMeta) {
		t.Fatalf("sizes %d vs %d, metadata %v vs %v", len(ours), len(ref), oursMeta, refMeta)
	}
	if !slices.EqualFunc(oursEntries, refEntries, func(a, b headerEntry) bool {
		return a.name == b.name && a.dtype == b.dtype && slices.Equal(a.shape, b.shape) && a.begin == b.begin && a.end == b.end
	}) {
		t.Error("tensor tables differ")
	}
	dataStart := func(b []byte) int { return 8 + int(binary.LittleEndian.Uint64(b)) }
	if !bytes.Equal(ours[dataStart(ours):], ref[dataStart(ref):]) {
		t.Error("data sections differ")
	}
}
