package shaders

import (
	"regexp"
	"strings"
	"testing"
)

// Including files get the library appended once, after their own text (so
// their line numbers stay); the library itself has no entry points.
func TestIncludeAppendsTheLibraryOnce(t *testing.T) {
	own, err := files.ReadFile("matmul.wgsl")
	if err != nil {
		t.Fatal(err)
	}
	src, err := Source("matmul.wgsl", Variant{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, string(own)) {
		t.Fatal("the including file's text does not come first")
	}
	if n := strings.Count(src, "fn normal_cdf("); n != 1 {
		t.Fatalf("normal_cdf defined %d times", n)
	}
	lib, err := Source("erf.wgsl", Variant{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(lib, "@compute") || strings.Contains(lib, "@binding") {
		t.Fatal("erf.wgsl should hold functions and consts only")
	}
	for _, name := range Names() {
		src, err := Source(name, Variant{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(src, "fn gelu_value(") != strings.Contains(src, "// #include erf.wgsl") && name != "erf.wgsl" {
			t.Errorf("%s: erf.wgsl's functions present without the include line, or the reverse", name)
		}
	}
}

// Each function is defined in one file: shared helpers live in a library
// that the files needing them include.
func TestNoFunctionDefinedTwice(t *testing.T) {
	def := regexp.MustCompile(`(?m)^fn ([a-z_0-9]+)\(`)
	where := map[string]string{}
	for _, name := range Names() {
		if strings.HasSuffix(name, subgroupsSuffix) {
			continue // another form of a library: TestSubgroupFormsMatchTheirLibrary
		}
		own, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range def.FindAllStringSubmatch(string(own), -1) {
			if prev, ok := where[m[1]]; ok {
				t.Errorf("fn %s is defined in %s and %s", m[1], prev, name)
			}
			where[m[1]] = name
		}
	}
	for _, lib := range []string{"reductions.wgsl", "reductions_subgroups.wgsl", "element.wgsl"} {
		src, err := Source(lib, Variant{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(src, "@compute") || strings.Contains(src, "@binding") {
			t.Errorf("%s should hold functions and consts only", lib)
		}
	}
}

// A library's subgroup form defines the functions of the library with
// the same signatures (and may have helpers of its own), so an including
// file compiles with either.
func TestSubgroupFormsMatchTheirLibrary(t *testing.T) {
	decl := regexp.MustCompile(`(?m)^fn [a-z_0-9]+\([^)]*\)[^{]*`)
	found := 0
	for _, name := range Names() {
		if !strings.HasSuffix(name, subgroupsSuffix) {
			continue
		}
		found++
		base := strings.TrimSuffix(name, subgroupsSuffix) + ".wgsl"
		alt, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lib, err := files.ReadFile(base)
		if err != nil {
			t.Fatalf("%s has no library %s: %v", name, base, err)
		}
		have := map[string]bool{}
		for _, f := range decl.FindAllString(string(alt), -1) {
			have[f] = true
		}
		for _, f := range decl.FindAllString(string(lib), -1) {
			if !have[f] {
				t.Errorf("%s lacks %s's %s", name, base, f)
			}
		}
	}
	if found == 0 {
		t.Fatal("no library has a subgroup form")
	}
}

// With Variant.Subgroups a file that includes reductions.wgsl gets its
// subgroup form and the enable directive on its first line (line numbers
// stay); a file that includes no such library is unchanged.
func TestSubgroupVariant(t *testing.T) {
	own, err := files.ReadFile("layernorm.wgsl")
	if err != nil {
		t.Fatal(err)
	}
	src, err := Source("layernorm.wgsl", Variant{Subgroups: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, enableSubgroups+string(own)) {
		t.Fatal("layernorm.wgsl does not start with the enable directive and its own text")
	}
	if !strings.Contains(src, "reductions_subgroups.wgsl (included)") || strings.Contains(src, "---- reductions.wgsl") {
		t.Fatal("layernorm.wgsl does not include the subgroup form only")
	}
	naga, err := Source("layernorm.wgsl", Variant{Subgroups: true, NoEnable: true})
	if err != nil {
		t.Fatal(err)
	}
	if naga != strings.TrimPrefix(src, enableSubgroups) {
		t.Fatal("NoEnable should leave out only the directive")
	}
	plain, err := Source("matmul.wgsl", Variant{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Source("matmul.wgsl", Variant{Subgroups: true})
	if err != nil {
		t.Fatal(err)
	}
	if plain != sub {
		t.Fatal("matmul.wgsl includes no library with a subgroup form, yet its source changed")
	}
}
