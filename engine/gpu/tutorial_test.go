package gpu

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/harness"
)

// TestGPUTutorialMatchesPyTorch runs the tutorial family's forward and
// backward on the WebGPU backend against its PyTorch references (weights
// from the torch.save files), with the official family's tolerances
// (harness.Compare).
func TestGPUTutorialMatchesPyTorch(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("../../testdata/tutorial", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, n := range []string{"tutorial_mae", "tutorial_mae_identity"} {
		t.Run(n, func(t *testing.T) {
			k, err := New(context.Background())
			if err != nil {
				t.Skipf("no WebGPU adapter: %v", err)
			}
			defer k.Release()
			rep, err := harness.CheckTutorialReference(k, harness.ReferenceFiles{Name: n, Config: read(n + ".config.json"),
				Weights: read(n + ".pth"), IO: read(n + ".io.safetensors")})
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
