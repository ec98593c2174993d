package gpu

import (
	"strings"
	"testing"

	"webmae/shaders"
)

// The Go side's attention row sizes must be the file's.
func TestAttentionSizesMatchTheShader(t *testing.T) {
	src, err := shaders.Source("attention.wgsl", shaders.Variant{})
	if err != nil {
		t.Fatal(err)
	}
	c := parseConsts(src)
	if c["MAX_T"] != attentionMaxT || c["MAX_HD"] != attentionMaxHD || c["WG"] != attentionWG {
		t.Fatalf("attention.wgsl declares MAX_T %d, MAX_HD %d, WG %d; attention.go says %d, %d, %d",
			c["MAX_T"], c["MAX_HD"], c["WG"], attentionMaxT, attentionMaxHD, attentionWG)
	}
	if got := attentionSpec(kAttention, 197, 32, attentionMaxT, 16).spec; got != "MAX_T=256,MAX_HD=32,WG=16" {
		t.Errorf("16 threads: spec %q", got)
	}
	if !(Info{Adapter: "swiftshader"}).software() || !(Info{AdapterType: "cpu"}).software() || (Info{Adapter: "NVIDIA H200", AdapterType: "discrete-gpu"}).software() {
		t.Error("software(): SwiftShader and CPU adapters are software, a discrete GPU is not")
	}
	for _, tc := range []struct {
		t, hd int
		spec  string
	}{{5, 16, "MAX_T=32,MAX_HD=16"}, {17, 8, "MAX_T=32,MAX_HD=16"}, {65, 64, "MAX_T=128,MAX_HD=64"}, {197, 64, "MAX_T=256,MAX_HD=64"},
		{1024, 256, "MAX_T=1024,MAX_HD=256"}, {1025, 64, "MAX_T=1024,MAX_HD=64"}, {5000, 8, "MAX_T=1024,MAX_HD=16"}, {10, 257, ""}} {
		if got := attentionSpec(kAttention, tc.t, tc.hd, attentionMaxT, attentionWG).spec; got != tc.spec {
			t.Errorf("t=%d hd=%d: spec %q, want %q", tc.t, tc.hd, got, tc.spec)
		}
	}
}

func TestSpecialiseIntegerConsts(t *testing.T) {
	src := "const A = 7u;\nconst AB = 9u;\nconst F = false;\n"
	out, err := specialise("x.wgsl", src, "A=32,F")
	if err != nil {
		t.Fatal(err)
	}
	if want := "const A = 32u;\nconst AB = 9u;\nconst F = true; \n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if c := parseConsts(out); c["A"] != 32 || c["AB"] != 9 {
		t.Fatalf("consts %v", c)
	}
	for _, bad := range []string{"B=1", "A=-1", "A=x"} {
		if _, err := specialise("x.wgsl", src, bad); err == nil || !strings.Contains(err.Error(), "specialisation") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}

// The matmul tile height: the least padding for the rows, at most the cap.
func TestMatmulTileRows(t *testing.T) {
	for _, tc := range []struct{ m, cap, want int }{
		{17, 64, 32}, {50, 64, 64}, {520, 64, 64}, {520, 32, 32}, {17, 32, 32}, {5, 64, 16}, {5, 32, 16}, {100, 16, 16},
	} {
		if got := matmulTileRows(tc.m, tc.cap); got != tc.want {
			t.Errorf("m=%d, at most %d rows: %d, want %d", tc.m, tc.cap, got, tc.want)
		}
	}
	if !(Info{Adapter: "llvmpipe (LLVM 15.0.6, 256 bits)"}).software() || matmulMaxRows(Info{Adapter: "swiftshader"}) != 32 || matmulMaxRows(Info{AdapterType: "discrete-gpu"}) != 64 {
		t.Error("software adapters cap matmul tiles at 32 rows, GPUs at 64")
	}
}
