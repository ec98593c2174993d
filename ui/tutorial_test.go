package ui

import (
	"os"
	"slices"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

func tutorialFilesForTest(t *testing.T) []namedBytes {
	t.Helper()
	var files []namedBytes
	for _, n := range []string{"tutorial_mae.safetensors", "tutorial_mae.config.json"} {
		b, err := os.ReadFile("../testdata/tutorial/" + n)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, namedBytes{Name: n, Data: b})
	}
	return files
}

// The page loads a tutorial model with its config.json, reconstructs with
// the tutorial's masking rule, and downloads it in its own format.
func TestTutorialModelInPage(t *testing.T) {
	k := cpu.New()
	lm, err := modelFromFiles(k, tutorialFilesForTest(t), model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if lm.Tut == nil || !strings.Contains(lm.describe(), "the tutorial's MAE") || lm.paramCount() != 172938 {
		t.Fatalf("loaded %q with %d parameters", lm.describe(), lm.paramCount())
	}
	pix := recon.Pixels{W: 32, H: 32, C: 3, Pix: make([]uint8, 32*32*3)}
	for i := range pix.Pix {
		pix.Pix[i] = uint8(i * 13)
	}
	// ratio 0.7 of 64 patches: the tutorial masks int(44.8) = 44, the
	// official rule would keep int(19.2) = 19 (mask 45).
	s := maskState{Ratio: 0.7, Seed: 4}
	out, err := reconJob{lm: lm, pix: pix, mask: s}.run()
	if err != nil {
		t.Fatal(err)
	}
	want, err := lm.Tut.Config.RandomMask(0.7, 4)
	if err != nil {
		t.Fatal(err)
	}
	if out.res.NumMasked() != 44 {
		t.Fatalf("masked %d patches, want 44", out.res.NumMasked())
	}
	got := recon.Masked(want, 0)
	for i, m := range out.res.Mask {
		if m != got[i] {
			t.Fatalf("patch %d: masked %v, the tutorial's rule %v", i, m, got[i])
		}
	}
	// A hand toggle starts from the mask shown.
	s2, err := s.toggle(lm.masking, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Hand[0] == got[0] {
		t.Fatal("toggling patch 0 did not flip the shown mask")
	}
	// The tutorial's own torch.save file loads the same model.
	files := tutorialFilesForTest(t)
	pth, err := os.ReadFile("../testdata/tutorial/tutorial_mae.pth")
	if err != nil {
		t.Fatal(err)
	}
	fromPth, err := modelFromFiles(k, []namedBytes{{"tutorial_mae.pth", pth}, files[1]}, model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := lm.Tut.Model.ReadParams()
	b, _ := fromPth.Tut.Model.ReadParams()
	if !slices.Equal(a, b) {
		t.Fatal("the .pth and the .safetensors load different parameters")
	}
	weights, cfgJSON, err := modelFiles(lm)
	if err != nil {
		t.Fatal(err)
	}
	back, err := modelFromFiles(k, []namedBytes{{"model.safetensors", weights}, {"config.json", cfgJSON}}, model.Config{})
	if err != nil || back.Tut == nil || back.Tut.Config != lm.Tut.Config {
		t.Fatalf("download does not load back: %v", err)
	}
	if _, err := modelFromFiles(k, []namedBytes{{"model.safetensors", weights}, {"config.json", []byte(`{"architecture": "vit-pytorch-mae"}`)}}, model.Config{}); err == nil ||
		!strings.Contains(err.Error(), "dim must be positive") {
		t.Fatalf("a tutorial config without sizes: %v", err)
	}
}
