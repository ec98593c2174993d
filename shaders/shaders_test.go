package shaders

import (
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
