package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const refDir = "../../testdata/reference"

// rawFile assembles a safetensors file from a header and a data section.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// smallTensors is a mixed set used by several tests.
func smallTensors() map[string]HostTensor {
	return map[string]HostTensor{
		"w":      {Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 1e-30, -0}},
		"ids":    {Shape: []int{2, 2}, I64: []int64{0, -1, math.MaxInt64, math.MinInt64}},
		"scalar": {Shape: []int{}, F32: []float32{42}},
		"empty":  {Shape: []int{0, 4}, F32: []float32{}},
	}
}

func mustWrite(t testing.TB, tensors map[string]HostTensor, meta map[string]string, half func(string) bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, nil, tensors, meta, half); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestReadReferenceIO(t *testing.T) {
	tensors, meta, err := LoadSafetensorsFile(filepath.Join(refDir, "mae_tiny.io.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ids := tensors["ids_restore"]
	if !ids.IsInt() || !slices.Equal(ids.Shape, []int{2, 16}) || len(ids.I64) != 32 {
		t.Fatalf("ids_restore: %v int=%v len=%d", ids.Shape, ids.IsInt(), ids.Len())
	}
	for _, v := range ids.I64 {
		if v < 0 || v >= 16 {
			t.Fatalf("ids_restore value %d out of range", v)
		}
	}
	px := tensors["pixel_values"]
	if px.IsInt() || !slices.Equal(px.Shape, []int{2, 3, 32, 32}) || len(px.F32) != 2*3*32*32 {
		t.Fatalf("pixel_values: %v", px.Shape)
	}
	if !strings.Contains(meta["adamw"], "weight_decay") {
		t.Fatalf("metadata %v", meta)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	in := smallTensors()
	meta := map[string]string{"format": "pt", "note": "x"}
	data := mustWrite(t, in, meta, nil)
	if again := mustWrite(t, in, meta, nil); !bytes.Equal(data, again) {
		t.Fatal("output is not deterministic")
	}
	if n := binary.LittleEndian.Uint64(data); n%8 != 0 {
		t.Errorf("header length %d is not 8-aligned", n)
	}
	out, gotMeta, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) || gotMeta["format"] != "pt" || gotMeta["note"] != "x" {
		t.Fatalf("got %d tensors, metadata %v", len(out), gotMeta)
	}
	for name, want := range in {
		got := out[name]
		if !slices.Equal(got.Shape, want.Shape) || !equalBits(got.F32, want.F32) || !slices.Equal(got.I64, want.I64) || got.IsInt() != want.IsInt() {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestWriteSubsetAndErrors(t *testing.T) {
	in := smallTensors()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, []string{"w"}, in, nil, nil); err != nil {
		t.Fatal(err)
	}
	out, meta, err := ReadSafetensors(buf.Bytes())
	if err != nil || len(out) != 1 || len(meta) != 0 {
		t.Fatalf("subset: %v %v %v", out, meta, err)
	}
	cases := []struct {
		names   []string
		tensors map[string]HostTensor
		want    string
	}{
		{[]string{"nope"}, in, `"nope": not given`},
		{[]string{"w", "w"}, in, `"w": named twice`},
		{nil, map[string]HostTensor{"bad": {Shape: []int{3}, F32: []float32{1}}}, `"bad": shape [3] needs 3 elements, have 1`},
		{nil, map[string]HostTensor{"both": {Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}}, `"both": both F32 and I64`},
		{nil, map[string]HostTensor{"neg": {Shape: []int{-1}, F32: []float32{}}}, `"neg": shape [-1]`},
		{nil, map[string]HostTensor{"__metadata__": {Shape: []int{1}, F32: []float32{1}}}, "reserved"},
	}
	for _, c := range cases {
		err := WriteSafetensors(&bytes.Buffer{}, c.names, c.tensors, nil, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("names %v: error %v, want %q", c.names, err, c.want)
		}
	}
}

func TestWriteF16(t *testing.T) {
	in := map[string]HostTensor{
		"a": {Shape: []int{5}, F32: []float32{1, 0.1, -65504, 1e-7, 70000}},
		"b": {Shape: []int{2}, F32: []float32{0.1, 0.2}},
	}
	data := mustWrite(t, in, nil, func(name string) bool { return name == "a" })
	if !bytes.Contains(data, []byte(`"a":{"dtype":"F16"`)) || !bytes.Contains(data, []byte(`"b":{"dtype":"F32"`)) {
		t.Fatalf("header: %s", data[8:8+binary.LittleEndian.Uint64(data)])
	}
	out, _, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, F16ToF32(F32ToF16(0.1)), -65504, F16ToF32(F32ToF16(1e-7)), float32(math.Inf(1))}
	if !equalBits(out["a"].F32, want) {
		t.Errorf("a = %v, want %v", out["a"].F32, want)
	}
	if !equalBits(out["b"].F32, in["b"].F32) {
		t.Errorf("b = %v, want exact", out["b"].F32)
	}
}

func TestReadBF16AndF16(t *testing.T) {
	// BF16 0x3fc0 = 1.5, 0xc000 = -2; F16 0x3c00 = 1, 0x0001 = 2^-24.
	data := rawFile(`{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}`,
		[]byte{0xc0, 0x3f, 0x00, 0xc0, 0x00, 0x3c, 0x01, 0x00})
	out, _, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["b"].F32; !slices.Equal(got, []float32{1.5, -2}) {
		t.Errorf("BF16: %v", got)
	}
	if got := out["h"].F32; !slices.Equal(got, []float32{1, float32(math.Ldexp(1, -24))}) {
		t.Errorf("F16: %v", got)
	}
}

func TestF16AllHalves(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		back := F32ToF16(f)
		if math.IsNaN(float64(f)) {
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x -> %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, back)
		}
	}
}

// checkRounded verifies that F32ToF16(f) is the nearest half to f (ties
// to even) by comparing, in float64, with its two neighbouring halves.
func checkRounded(t *testing.T, f float32) {
	t.Helper()
	h := F32ToF16(f)
	got := float64(F16ToF32(h))
	x := float64(f)
	if math.IsNaN(x) {
		if !math.IsNaN(got) {
			t.Fatalf("NaN -> %g", got)
		}
		return
	}
	if math.Abs(x) >= 65520 { // beyond max half + half an ulp: infinity
		if !math.IsInf(got, int(math.Copysign(1, x))) {
			t.Fatalf("%g -> %g, want infinity", x, got)
		}
		return
	}
	if math.Signbit(got) != math.Signbit(x) {
		t.Fatalf("%g -> %g: sign lost", x, got)
	}
	// Neighbours of h in magnitude.
	mag := h & 0x7fff
	for _, n := range []uint16{mag - 1, mag + 1} {
		if n > 0x7bff {
			continue
		}
		other := float64(F16ToF32(n | h&0x8000))
		dg, do := math.Abs(got-x), math.Abs(other-x)
		if do < dg || (do == dg && h&1 == 1) {
			t.Fatalf("%g (%#08x) -> %#04x = %g, but %#04x = %g is nearer or even", x, math.Float32bits(f), h, got, n, other)
		}
	}
}

func TestF32ToF16Rounding(t *testing.T) {
	for h := uint16(0); h < 0x7bff; h++ { // every tie between two halves, both signs
		a, b := float64(F16ToF32(h)), float64(F16ToF32(h+1))
		mid := float32((a + b) / 2)
		checkRounded(t, mid)
		checkRounded(t, -mid)
		checkRounded(t, math.Nextafter32(mid, 0))
		checkRounded(t, math.Nextafter32(mid, 1e9))
	}
	for _, f := range []float32{0, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 1e-45, float32(math.NaN()), float32(math.Inf(-1))} {
		checkRounded(t, f)
		checkRounded(t, -f)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		checkRounded(t, math.Float32frombits(rng.Uint32()))
	}
}

// validFile is a small valid file the malformed cases are derived from.
func validFile(t testing.TB) []byte {
	return mustWrite(t, map[string]HostTensor{"alpha": {Shape: []int{2}, F32: []float32{1, 2}}, "beta": {Shape: []int{1}, F32: []float32{3}}}, nil, nil)
}

// malformedCases lists broken files and what the error must mention.
func malformedCases(t testing.TB) []struct {
	name string
	data []byte
	want []string
} {
	valid := validFile(t)
	hdrLen := binary.LittleEndian.AppendUint64(nil, 1<<40)
	hdrLenSmall := binary.LittleEndian.AppendUint64(nil, 1<<20)
	var many strings.Builder // MaxTensors+1 one-element tensors
	many.WriteString("{")
	for i := 0; i <= MaxTensors; i++ {
		fmt.Fprintf(&many, `"t%d":{"dtype":"F32","shape":[1],"data_offsets":[%d,%d]},`, i, 4*i, 4*i+4)
	}
	manyHdr := strings.TrimSuffix(many.String(), ",") + "}"
	return []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"too short"}},
		{"short", []byte{1, 2, 3}, []string{"too short"}},
		{"truncated", valid[:len(valid)-2], []string{"out of range", "truncated"}},
		{"header over the cap", append(hdrLen, valid[8:]...), []string{"header length 1099511627776 is over the 100000000-byte limit"}},
		{"header longer than file", append(hdrLenSmall, valid[8:]...), []string{"header length 1048576 exceeds"}},
		{"too many tensors", rawFile(manyHdr, make([]byte, 4*(MaxTensors+1))), []string{"more than 16384 tensors"}},
		{"not json", rawFile(`nope`, nil), []string{"header: invalid JSON"}},
		{"json array", rawFile(`[1,2]`, nil), []string{"not a JSON object"}},
		{"garbage after header", rawFile(`{} x`, nil), []string{"garbage"}},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)),
			[]string{`"b"`, "overlap", `"a"`}},
		{"hole", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), []string{`"a"`, "unused"}},
		{"trailing data", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 8)), []string{"4 unused bytes after"}},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8)), []string{`"a"`, "out of range"}},
		{"huge offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551611,18446744073709551615]}}`, nil), []string{`"a"`, "out of range"}},
		{"reversed offsets", rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, make([]byte, 4)), []string{`"a"`, "reversed"}},
		{"three offsets", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, make([]byte, 4)), []string{`"a"`, "data_offsets has 3"}},
		{"unknown dtype", rawFile(`{"q":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), []string{`"q"`, "unsupported dtype", "F8_E4M3"}},
		{"unsupported dtype", rawFile(`{"d":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"d"`, "unsupported dtype"}},
		{"shape/size mismatch", rawFile(`{"m":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{`"m"`, "needs 12 bytes"}},
		{"overflowing shape", rawFile(`{"o":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, make([]byte, 8)), []string{`"o"`, "overflows"}},
		{"huge dimension", rawFile(`{"o":{"dtype":"F32","shape":[4294967296,0],"data_offsets":[0,0]}}`, nil), []string{`"o"`, "too large"}},
		{"negative dimension", rawFile(`{"n":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`, nil), []string{`"n"`}},
		{"duplicate", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), []string{`"a"`, "twice"}},
		{"bad metadata", rawFile(`{"__metadata__":{"k":1}}`, nil), []string{"__metadata__"}},
		{"null entry", rawFile(`{"z":null}`, nil), []string{`"z"`, "unsupported dtype"}},
		{"extra key", rawFile(`{"e":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), []string{`"e"`}},
	}
}

func TestReadMalformed(t *testing.T) {
	for _, c := range malformedCases(t) {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := ReadSafetensors(c.data)
			if err == nil {
				t.Fatalf("no error; got %v", out)
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadEdgeCases(t *testing.T) {
	// An empty file body and null metadata are valid.
	out, meta, err := ReadSafetensors(rawFile(`{"__metadata__":null}  `, nil))
	if err != nil || len(out) != 0 || meta == nil {
		t.Fatalf("empty: %v %v %v", out, meta, err)
	}
	// Offsets out of name order are fine.
	out, _, err = ReadSafetensors(rawFile(`{"b":{"dtype":"I64","shape":[1],"data_offsets":[4,12]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`,
		[]byte{0, 0, 0x80, 0x3f, 7, 0, 0, 0, 0, 0, 0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	if a := out["a"]; len(a.Shape) != 0 || !slices.Equal(a.F32, []float32{1}) {
		t.Errorf("a = %+v", a)
	}
	if b := out["b"]; !slices.Equal(b.I64, []int64{7}) {
		t.Errorf("b = %+v", b)
	}
}

func TestLoadSafetensorsFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.safetensors")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSafetensorsFileSize + 1); err != nil { // sparse
		t.Fatal(err)
	}
	f.Close()
	if _, _, err := LoadSafetensorsFile(big); err == nil || !strings.Contains(err.Error(), "over the size limit of 2 GiB") {
		t.Errorf("big file: %v", err)
	}
	if _, _, err := LoadSafetensorsFile(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	if _, _, err := LoadSafetensorsFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("xyz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadSafetensorsFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v does not name the file", err)
	}
}

func TestSaveSafetensorsFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.safetensors")
	if err := SaveSafetensorsFile(path, nil, smallTensors(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadSafetensorsFile(path); err != nil {
		t.Fatal(err)
	}
	// A failed write leaves the previous file and no temporary behind.
	before, _ := os.ReadFile(path)
	err := SaveSafetensorsFile(path, nil, map[string]HostTensor{"x": {Shape: []int{2}}}, nil, nil)
	if err == nil {
		t.Fatal("invalid tensor written")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("failed write changed the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	if err := SaveSafetensorsFile(filepath.Join(dir, "no", "such", "dir", "x"), nil, smallTensors(), nil, nil); err == nil {
		t.Error("write into a missing directory: no error")
	}
}

// FuzzReadSafetensors checks that ReadSafetensors never panics and that
// whatever it accepts is consistent and survives a write/read round trip.
func FuzzReadSafetensors(f *testing.F) {
	f.Add(validFile(f))
	for _, c := range malformedCases(f) {
		if len(c.data) < 1<<16 { // the mutator works best on small inputs
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, meta, err := ReadSafetensors(data)
		if err != nil {
			if tensors != nil || meta != nil {
				t.Fatal("results returned with an error")
			}
			return
		}
		for name, ts := range tensors {
			if err := ts.validate(); err != nil {
				t.Fatalf("tensor %q: %v", name, err)
			}
		}
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, nil, tensors, meta, nil); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, meta2, err := ReadSafetensors(buf.Bytes())
		if err != nil {
			t.Fatalf("reread: %v", err)
		}
		if len(again) != len(tensors) || len(meta2) != len(meta) {
			t.Fatalf("round trip: %d/%d tensors, %d/%d metadata", len(again), len(tensors), len(meta2), len(meta))
		}
		for name, want := range tensors {
			got := again[name]
			if !slices.Equal(got.Shape, want.Shape) || !equalBits(got.F32, want.F32) || !slices.Equal(got.I64, want.I64) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}

// TestWriteFuzzCorpus regenerates the checked-in seed corpus when
// WEBMAE_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("WEBMAE_WRITE_CORPUS") != "1" {
		t.Skip("set WEBMAE_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzReadSafetensors")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadSafetensors")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("valid_small", validFile(t))
	write("valid_mixed", mustWrite(t, smallTensors(), map[string]string{"format": "pt"}, func(n string) bool { return n == "w" }))
	for _, c := range malformedCases(t) {
		write(strings.NewReplacer(" ", "_", "/", "_").Replace(c.name), c.data)
	}
}
