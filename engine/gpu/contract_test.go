package gpu

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"webmae/shaders"
)

// kernelContract parses the contract of k's specialised source, as
// pipeline() does, without a device.
func kernelContract(t *testing.T, k kernel) *contract {
	t.Helper()
	src, err := shaders.Source(k.file, shaders.Variant{})
	if err != nil {
		t.Fatal(err)
	}
	src, err = specialise(k.file, src, k.spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseContract(k.file, src)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every kernel's file declares a contract the host can read; the storage
// bindings and read-only sets are those of the files (matmul's operands and
// bias, layernorm's gamma and beta are var<storage, read>).
func TestEveryKernelContractParses(t *testing.T) {
	want := map[string]struct {
		slots int
		ro    []int
	}{
		"elementwise.wgsl": {2, nil}, "gelu.wgsl": {3, nil}, "reduce.wgsl": {2, nil},
		"layernorm.wgsl": {7, []int{5, 6}}, "attention.wgsl": {5, nil}, "patchify.wgsl": {2, nil},
		"tokens.wgsl": {5, nil}, "loss.wgsl": {5, nil}, "adamw.wgsl": {4, nil}, "matmul.wgsl": {5, []int{2, 3, 4}},
	}
	kernels := append(allKernels(), matmulKernel(false, true, 16), attentionSpec(kAttention, 17, 8, attentionMaxT, 16))
	for _, k := range kernels {
		c := kernelContract(t, k)
		w, ok := want[k.file]
		if !ok {
			t.Errorf("%s: no expectation", k.file)
			continue
		}
		var ro uint8
		for _, s := range w.ro {
			ro |= 1 << s
		}
		if c.slots != w.slots || c.ro != ro {
			t.Errorf("%s %s: %d slots, read-only %b; want %d, %b", k.file, k.entry, c.slots, c.ro, w.slots, ro)
		}
		for i := range c.slots {
			if c.fields[c.offs[i]].name != "off_"+c.names[i] {
				t.Errorf("%s: binding %d (%s) offset field %s", k.file, i+1, c.names[i], c.fields[c.offs[i]].name)
			}
		}
	}
}

// A file whose declarations break the conventions is refused with a
// message naming the file and the declaration.
func TestContractRejectsMalformedDeclarations(t *testing.T) {
	const uniform = "@group(0) @binding(0) var<uniform> P: Params;\n"
	many := "struct Params {\n"
	for i := range paramWords + 1 {
		many += fmt.Sprintf("    f%d: u32,\n", i)
	}
	many += "}\n"
	for _, tc := range []struct{ src, want string }{
		{"@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n", "no `struct Params"},
		{"struct Params {\n    off_x: u32,\n}\n@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n", "no `@group(0) @binding(0)"},
		{"struct Params {\n    n: u32,\n}\n" + uniform + "@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n", "no u32 field off_x"},
		{"struct Params {\n    off_x: f32,\n}\n" + uniform + "@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n", "no u32 field off_x"},
		{"struct Params {\n    off_x: u32,\n    off_y: u32,\n}\n" + uniform + "@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n@group(0) @binding(3) var<storage, read> y: array<f32>;\n", "2 is missing"},
		{"struct Params {\n    v: vec2<f32>,\n}\n" + uniform, "cannot read the line"},
		{"struct Params {\n    v: i32,\n}\n" + uniform, "type i32"},
		{"struct Params {\n    n: u32,\n    n: u32,\n}\n" + uniform, "declares n twice"},
		{many + uniform, "33 fields"},
		{"struct Params {\n    off_x: u32,\n}\n" + uniform + "@group(0) @binding(1) var<uniform> x: Params;\n", "want storage"},
		{"struct Params {\n    n: u32,\n}\n@group(0) @binding(0) var<storage, read> P: Params;\n", "binding 0 must be"},
	} {
		_, err := parseContract("bad.wgsl", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.wgsl") {
			t.Errorf("error %v, want one naming bad.wgsl and %q for\n%s", err, tc.want, tc.src)
		}
	}
}

func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), want) {
			t.Errorf("panic %v, want one mentioning %q", r, want)
		}
	}()
	fn()
}

// Launchers set uniform fields by name: a name the file does not declare,
// a field of the other type, or a field left unset fails loudly, and each
// value lands in its field's word whatever the order of the calls.
func TestCallSetsFieldsByName(t *testing.T) {
	p := &pipeline{k: kColumnSum, contract: kernelContract(t, kColumnSum)}
	newCall := func() *call { return &call{p: p} }

	mustPanic(t, `no field "colums"`, func() { newCall().u("colums", 3) })
	mustPanic(t, "field rows is u32", func() { newCall().f("rows", 1) })
	mustPanic(t, "does not fit a u32", func() { newCall().u("rows", -1) })
	layer := &call{p: &pipeline{k: kLayerNorm, contract: kernelContract(t, kLayerNorm)}}
	mustPanic(t, "field eps is f32", func() { layer.u("eps", 1) })

	c := newCall()
	c.u("cols", 7)
	c.u("rows", 5)
	err := c.complete()
	if err == nil || !strings.Contains(err.Error(), "stride, flags, off_dst, off_src") {
		t.Fatalf("incomplete call: error %v", err)
	}
	c.u("flags", 1)
	c.u("stride", 9)
	c.u("off_src", 11)
	c.u("off_dst", 13)
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	// reduce.wgsl: rows, cols, stride, flags, off_dst, off_src.
	if got := c.params[:6]; fmt.Sprint(got) != "[5 7 9 1 13 11]" {
		t.Fatalf("words %v", got)
	}
	layer.f("eps", 0.5)
	if w := layer.params[layer.p.contract.index["eps"]]; w != math.Float32bits(0.5) {
		t.Fatalf("eps word %#x", w)
	}
}
