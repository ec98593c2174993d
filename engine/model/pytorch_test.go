package model

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const pthDir = "../../testdata/pth"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pthDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundBF16 rounds to bfloat16, nearest even (torch's .to(torch.bfloat16)).
func roundBF16(f float32) float32 {
	b := math.Float32bits(f)
	b += 0x7fff + (b>>16)&1
	return math.Float32frombits(b &^ 0xffff)
}

// TestReadPyTorchFixtures reads every checkpoint of testdata/make_pth.py
// and checks each tensor against the reference parameters it was made
// from: bit-exact for float32, exactly the rounded values for float16 and
// bfloat16.
func TestReadPyTorchFixtures(t *testing.T) {
	official := loadRef(t, "mae_tiny.timm.safetensors")
	cases := []struct {
		file  string
		ref   string
		round func(float32) float32
		drop  func(string) bool // reference tensors the fixture leaves out
	}{
		{file: "mae_tiny.official.pth", ref: "mae_tiny.timm.safetensors"},
		{file: "mae_tiny_normpix.legacy.pth", ref: "mae_tiny_normpix.timm.safetensors"},
		{file: "mae_tiny.strided.pth", ref: "mae_tiny.timm.safetensors"},
		{file: "hf/pytorch_model.bin", ref: "mae_tiny.safetensors"},
		{file: "evil_optimizer.pth", ref: "mae_tiny.timm.safetensors"},
		{file: "mae_tiny.f16.pth", ref: "mae_tiny.timm.safetensors", round: func(f float32) float32 { return F16ToF32(F32ToF16(f)) }},
		{file: "mae_tiny.bf16.pth", ref: "mae_tiny.timm.safetensors", round: roundBF16},
		{file: "mae_tiny.encoder.pth", ref: "mae_tiny.timm.safetensors", drop: func(n string) bool { return isDecoderName(n, FormatOfficial) }},
	}
	if len(official) != 50 {
		t.Fatalf("reference has %d tensors", len(official))
	}
	for _, c := range cases {
		got, err := ReadPyTorch(readFixture(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		want := loadRef(t, c.ref)
		for name := range want {
			if c.drop != nil && c.drop(name) {
				delete(want, name)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d tensors, want %d", c.file, len(got), len(want))
		}
		for name, w := range want {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: no %s", c.file, name)
				continue
			}
			ref := w.F32
			if c.round != nil {
				ref = make([]float32, len(w.F32))
				for i, v := range w.F32 {
					ref[i] = c.round(v)
				}
			}
			if !slices.Equal(g.Shape, w.Shape) || !equalBits(g.F32, ref) {
				t.Errorf("%s: %s differs (shape %v, want %v)", c.file, name, g.Shape, w.Shape)
			}
		}
	}
}

// TestEncoderOnlyRefused: a checkpoint without decoder weights is named as
// such, with what it lacks and what to use instead.
func TestEncoderOnlyRefused(t *testing.T) {
	tensors, err := ReadPyTorch(readFixture(t, "mae_tiny.encoder.pth"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, lay := refConfig(t, "mae_tiny")
	_, _, err = LoadWeights(tensors, cfg, lay)
	if !errors.Is(err, ErrEncoderOnly) {
		t.Fatalf("error %v, want ErrEncoderOnly", err)
	}
	for _, want := range []string{"decoder_blocks.*", "mae_visualize_vit_base.pth", "facebook/vit-mae-base"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// A Hugging Face ViTMAEModel (encoder alone, no vit. prefix).
	hf := map[string]HostTensor{}
	for name, t := range loadRef(t, "mae_tiny.safetensors") {
		if strings.HasPrefix(name, "vit.") {
			hf[strings.TrimPrefix(name, "vit.")] = t
		}
	}
	if _, _, err = LoadWeights(hf, cfg, lay); !errors.Is(err, ErrEncoderOnly) || !strings.Contains(err.Error(), "decoder.decoder_layers.*") {
		t.Errorf("ViTMAEModel weights: %v", err)
	}
}

// pickleBuilder writes protocol-2 pickles by hand for the malformed cases.
type pickleBuilder struct{ bytes.Buffer }

func (p *pickleBuilder) str(s string) *pickleBuilder {
	p.WriteByte('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pickleBuilder) int(n int) *pickleBuilder {
	p.WriteByte('J')
	binary.Write(&p.Buffer, binary.LittleEndian, int32(n))
	return p
}

func (p *pickleBuilder) ops(s string) *pickleBuilder { p.WriteString(s); return p }

func (p *pickleBuilder) tuple(ns []int) *pickleBuilder {
	p.ops("(")
	for _, n := range ns {
		p.int(n)
	}
	return p.ops("t")
}

// tensor appends _rebuild_tensor_v2(storage(key, class, numel), offset, size, stride, False, OrderedDict()).
func (p *pickleBuilder) tensor(class, key string, numel, offset int, size, stride []int) *pickleBuilder {
	p.ops("ctorch._utils\n_rebuild_tensor_v2\n(")
	p.ops("(").str("storage").ops("ctorch\n" + class + "\n").str(key).str("cpu").int(numel).ops("tQ")
	p.int(offset).tuple(size).tuple(stride)
	return p.ops("\x89ccollections\nOrderedDict\n)RtR")
}

// torchZip packs a data.pkl and storage records as torch.save does.
func torchZip(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	add("archive/data.pkl", pkl)
	for k, b := range storages {
		add("archive/data/"+k, b)
	}
	add("archive/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// oneTensor is a checkpoint {'w': tensor} with one float storage "0" of
// six values 0..5.
func oneTensor(t testing.TB, class string, numel, offset int, size, stride []int) []byte {
	p := (&pickleBuilder{}).ops("\x80\x02}").str("w")
	p.tensor(class, "0", numel, offset, size, stride).ops("s.")
	return torchZip(t, p.Bytes(), map[string][]byte{"0": f32Bytes(0, 1, 2, 3, 4, 5)})
}

func TestReadPyTorchViews(t *testing.T) {
	cases := []struct {
		size, stride []int
		offset       int
		want         []float32
	}{
		{[]int{2, 3}, []int{3, 1}, 0, []float32{0, 1, 2, 3, 4, 5}},
		{[]int{3, 2}, []int{1, 3}, 0, []float32{0, 3, 1, 4, 2, 5}}, // a transpose
		{[]int{2, 2}, []int{1, 2}, 1, []float32{1, 3, 2, 4}},
		{[]int{2}, []int{0}, 5, []float32{5, 5}}, // an expanded scalar
		{[]int{}, []int{}, 4, []float32{4}},
		{[]int{0, 3}, []int{3, 1}, 0, []float32{}},
	}
	for _, c := range cases {
		got, err := ReadPyTorch(oneTensor(t, "FloatStorage", 6, c.offset, c.size, c.stride))
		if err != nil {
			t.Fatalf("%v/%v: %v", c.size, c.stride, err)
		}
		if w := got["w"]; !slices.Equal(w.Shape, c.size) || !slices.Equal(w.F32, c.want) {
			t.Errorf("size %v stride %v offset %d: got %v %v, want %v", c.size, c.stride, c.offset, w.Shape, w.F32, c.want)
		}
	}
}

func TestReadPyTorchErrors(t *testing.T) {
	evil := (&pickleBuilder{}).ops("\x80\x02}").str("w").ops("cos\nsystem\n(").str("touch /tmp/x").ops("tRs.")
	top := (&pickleBuilder{}).ops("\x80\x02cbuiltins\neval\n(").str("1").ops("tR.")
	model := (&pickleBuilder{}).ops("\x80\x02}").str("model").ops("csubprocess\nPopen\n)Rs.")
	notTensor := (&pickleBuilder{}).ops("\x80\x02}").str("w").int(3).ops("s.")
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a torch.save file"},
		{"text", []byte("hello"), "not a torch.save file"},
		{"zip without data.pkl", func() []byte {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			zw.Create("x")
			zw.Close()
			return b.Bytes()
		}(), "no ARCHIVE/data.pkl"},
		{"truncated zip", oneTensor(t, "FloatStorage", 6, 0, []int{6}, []int{1})[:100], "zip"},
		{"view past the storage", oneTensor(t, "FloatStorage", 6, 1, []int{2, 3}, []int{3, 1}), "exceeds its storage"},
		{"stride past the storage", oneTensor(t, "FloatStorage", 6, 0, []int{1}, []int{7}), "stride"},
		{"storage larger than the file", oneTensor(t, "FloatStorage", 1<<30, 0, []int{6}, []int{1}), "larger than the file"},
		{"record shorter than the storage", oneTensor(t, "FloatStorage", 7, 0, []int{7}, []int{1}), "need 28"},
		{"unsupported dtype", oneTensor(t, "IntStorage", 6, 0, []int{6}, []int{1}), "dtype int32"},
		{"global in the state_dict", torchZip(t, evil.Bytes(), nil), `refusing os.system in the state_dict["w"]`},
		{"global as the object", torchZip(t, top.Bytes(), nil), "refusing builtins.eval in the checkpoint's object"},
		{"global as the model", torchZip(t, model.Bytes(), nil), "refusing subprocess.Popen in checkpoint['model']"},
		{"not a tensor", torchZip(t, notTensor.Bytes(), nil), `state_dict["w"] is a int, not a tensor`},
		{"truncated pickle", torchZip(t, evil.Bytes()[:20], nil), "pickle"},
		{"huge string length", torchZip(t, []byte("\x80\x02\x8e\xff\xff\xff\xff\xff\xff\xff\x7f."), nil), "exceeds"},
		{"legacy without magic", []byte("\x80\x02K\x01."), "magic number"},
		{"legacy truncated", readFixture(t, "mae_tiny_normpix.legacy.pth")[:200000], "legacy format"},
	}
	for _, c := range cases {
		_, err := ReadPyTorch(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

func TestIsPyTorch(t *testing.T) {
	if !IsPyTorch(readFixture(t, "mae_tiny.official.pth")) || !IsPyTorch(readFixture(t, "evil.legacy.pth")) {
		t.Error("fixtures not recognised")
	}
	st, err := os.ReadFile("../../testdata/reference/mae_tiny.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if IsPyTorch(st) {
		t.Error("safetensors taken for PyTorch")
	}
	// A safetensors file whose 8-byte header length is 128 starts with 0x80.
	var buf bytes.Buffer
	header := `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	header += strings.Repeat(" ", 128-len(header))
	binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	buf.Write(f32Bytes(1.5))
	if IsPyTorch(buf.Bytes()) {
		t.Error("a safetensors file with a 128-byte header taken for a legacy PyTorch file")
	}
	if got, err := ReadTensors(buf.Bytes()); err != nil || got["w"].F32[0] != 1.5 {
		t.Errorf("ReadTensors: %v, %v", got, err)
	}
}

// FuzzReadPyTorch checks that ReadPyTorch never panics or hangs, and that
// whatever it accepts is well formed.
func FuzzReadPyTorch(f *testing.F) {
	for _, name := range []string{"evil.zip.pth", "evil.legacy.pth"} {
		f.Add(readFixture(f, name))
	}
	f.Add(oneTensor(f, "FloatStorage", 6, 1, []int{2, 2}, []int{1, 2}))
	f.Add(oneTensor(f, "HalfStorage", 6, 0, []int{3}, []int{1}))
	f.Add(torchZip(f, (&pickleBuilder{}).ops("\x80\x02}").str("model").ops("}").str("w").
		tensor("BFloat16Storage", "0", 4, 0, []int{2, 2}, []int{2, 1}).ops("ss.").Bytes(), map[string][]byte{"0": f32Bytes(1, 2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, err := ReadPyTorch(data)
		if err != nil {
			if tensors != nil {
				t.Fatal("tensors returned with an error")
			}
			return
		}
		total := 0
		for name, ts := range tensors {
			if err := ts.validate(); err != nil {
				t.Fatalf("tensor %q: %v", name, err)
			}
			total += ts.Len()
		}
		if total > len(data) {
			t.Fatalf("%d elements from %d bytes", total, len(data))
		}
	})
}

// officialCheckpoint packs params as torch.save does for the official
// training loop: {'model': OrderedDict(official names), 'epoch',
// 'args': argparse.Namespace}, tensors stored as float16.
func officialCheckpoint(t testing.TB, cfg Config, params []float32) []byte {
	p := (&pickleBuilder{}).ops("\x80\x02}(").str("model").ops("ccollections\nOrderedDict\n)R(")
	storages := map[string][]byte{}
	for i, s := range officialSlots(cfg, NewLayout(cfg)) {
		src := params[s.span.Off : s.span.Off+s.span.Len]
		if s.conv {
			src = PermutePatchWeightToConv(src, cfg.HiddenSize, cfg.NumChannels, cfg.PatchSize)
		}
		b := make([]byte, 2*len(src))
		for j, v := range src {
			binary.LittleEndian.PutUint16(b[2*j:], F32ToF16(v))
		}
		key := strconv.Itoa(i)
		storages[key] = b
		stride := make([]int, len(s.shape))
		for d, n := len(s.shape)-1, 1; d >= 0; d-- {
			stride[d], n = n, n*s.shape[d]
		}
		p.str(s.name).tensor("HalfStorage", key, len(src), 0, s.shape, stride)
	}
	p.ops("u").str("epoch").int(399).str("args").ops("cargparse\nNamespace\n)\x81}").str("model").str("mae_vit").ops("sb")
	return torchZip(t, p.ops("u.").Bytes(), storages)
}

// TestOfficialCheckpointRoundTrip writes randomly initialised parameters
// in the official layout and reads them back. With WEBMAE_WRITE_PTH=FILE
// (and WEBMAE_PTH_PRESET, default base) it writes that checkpoint for the
// browser tests (e2e/tests/hub.test.mjs).
func TestOfficialCheckpointRoundTrip(t *testing.T) {
	out, preset := os.Getenv("WEBMAE_WRITE_PTH"), cmp.Or(os.Getenv("WEBMAE_PTH_PRESET"), PresetBase)
	if out == "" {
		preset = PresetMicro
	}
	cfg, err := Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	lay := NewLayout(cfg)
	params := make([]float32, lay.Total)
	Init(cfg, lay, params, 7)
	data := officialCheckpoint(t, cfg, params)
	if out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s, %d parameters, %d bytes", out, preset, lay.Total, len(data))
		return
	}
	tensors, err := ReadPyTorch(data)
	if err != nil {
		t.Fatal(err)
	}
	inferred, err := InferConfig(tensors)
	if err == nil {
		t.Errorf("micro's config inferred as %+v (its widths are not a published size)", inferred)
	}
	got, format, err := LoadWeights(tensors, cfg, lay)
	if err != nil || format != FormatOfficial {
		t.Fatalf("%v (%s)", err, format)
	}
	for i, v := range params {
		if w := F16ToF32(F32ToF16(v)); math.Float32bits(got[i]) != math.Float32bits(w) {
			t.Fatalf("parameter %d: %g, want %g", i, got[i], w)
		}
	}
}
