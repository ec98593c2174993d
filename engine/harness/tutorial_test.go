package harness

import (
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/cpu"
)

// tutorialCases are the tutorial family's PyTorch references: the shared
// one (heads*dim_head == dim, enc_to_dec a Linear) and the second shape of
// make_reference.py (heads == 1 and dim_head == dim: to_out and enc_to_dec
// are identities), each as the torch.save state_dict (patch_to_emb.*
// sharing storage with encoder.to_patch_embedding.*) and as safetensors.
var tutorialCases = []struct{ base, weights string }{
	{"tutorial_mae", "tutorial_mae.pth"},
	{"tutorial_mae", "tutorial_mae.safetensors"},
	{"tutorial_mae_identity", "tutorial_mae_identity.pth"},
	{"tutorial_mae_identity", "tutorial_mae_identity.safetensors"},
}

func readTutorial(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/tutorial", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTutorialMatchesPyTorch checks the tutorial family on the CPU backend
// against PyTorch float64 with the official family's tolerances.
func TestTutorialMatchesPyTorch(t *testing.T) {
	for _, c := range tutorialCases {
		t.Run(c.weights, func(t *testing.T) {
			f := ReferenceFiles{Name: c.weights, Config: readTutorial(t, c.base+".config.json"),
				Weights: readTutorial(t, c.weights), IO: readTutorial(t, c.base+".io.safetensors")}
			rep, err := CheckTutorialReference(cpu.New(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range rep.Lines {
				t.Log(l)
			}
			for _, f := range rep.Failures {
				t.Error(f)
			}
		})
	}
}
