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
	src, err := Source("matmul.wgsl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src, string(own)) {
		t.Fatal("the including file's text does not come first")
	}
	if n := strings.Count(src, "fn normal_cdf("); n != 1 {
		t.Fatalf("normal_cdf defined %d times", n)
	}
	lib, err := Source("erf.wgsl")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(lib, "@compute") || strings.Contains(lib, "@binding") {
		t.Fatal("erf.wgsl should hold functions and consts only")
	}
	for _, name := range Names() {
		src, err := Source(name)
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
	for _, lib := range []string{"reductions.wgsl", "element.wgsl"} {
		src, err := Source(lib)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(src, "@compute") || strings.Contains(src, "@binding") {
			t.Errorf("%s should hold functions and consts only", lib)
		}
	}
}
