package harness

import (
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
)

// ReferenceDir holds the PyTorch reference vectors (copied from
// ../shared/testdata/reference).
const referenceDir = "../../testdata/reference"

func loadReferences(t *testing.T) []ReferenceFiles {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var out []ReferenceFiles
	for _, n := range []string{"mae_tiny", "mae_tiny_normpix"} {
		for _, w := range []string{n + ".safetensors", n + ".timm.safetensors"} {
			out = append(out, ReferenceFiles{Name: w, Config: read(n + ".config.json"), Weights: read(w), IO: read(n + ".io.safetensors")})
		}
	}
	return out
}

func checkAll(t *testing.T, newKernels func() backend.Kernels) {
	for _, f := range loadReferences(t) {
		t.Run(f.Name, func(t *testing.T) {
			k := newKernels()
			defer k.Release()
			rep, err := CheckReference(k, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range rep.Lines {
				t.Log(l)
			}
			for _, e := range rep.Failures {
				t.Error(e)
			}
		})
	}
}

func TestCPUMatchesPyTorch(t *testing.T) {
	checkAll(t, func() backend.Kernels { return cpu.New() })
}
