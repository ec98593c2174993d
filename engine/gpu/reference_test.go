package gpu

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/harness"
)

// TestGPUMatchesPyTorch runs the whole training step (forward, backward,
// three AdamW steps) on the WebGPU backend against the PyTorch reference
// vectors, with the same tolerances as the CPU backend (harness.Compare).
func TestGPUMatchesPyTorch(t *testing.T) {
	dir := "../../testdata/reference"
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []string{"mae_tiny", "mae_tiny_normpix"} {
		for _, w := range []string{n + ".safetensors", n + ".timm.safetensors"} {
			t.Run(w, func(t *testing.T) {
				k, err := New(context.Background())
				if err != nil {
					t.Skipf("no WebGPU adapter: %v", err)
				}
				defer k.Release()
				rep, err := harness.CheckReference(k, harness.ReferenceFiles{Name: w, Config: read(n + ".config.json"), Weights: read(w), IO: read(n + ".io.safetensors")})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s", k.Name())
				for _, l := range rep.Lines {
					t.Log(l)
				}
				for _, f := range rep.Failures {
					t.Error(f)
				}
			})
		}
	}
}
