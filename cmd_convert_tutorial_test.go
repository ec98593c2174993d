package main

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webmae/engine/model"
	"webmae/engine/tutorial"
)

// `webmae convert` of the tutorial's torch.save file writes its keys (each
// tensor once) as safetensors and its config; the parameters are those of
// the .pth.
func TestConvertTutorial(t *testing.T) {
	ref := "testdata/tutorial/"
	out := filepath.Join(t.TempDir(), "converted")
	if err := runConvert([]string{"--model", ref + "tutorial_mae.pth", "--config", ref + "tutorial_mae.config.json", "--out", out}); err != nil {
		t.Fatal(err)
	}
	cfg, err := tutorial.LoadConfig(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	lay := tutorial.NewLayout(cfg)
	got, err := tutorial.LoadWeightsFile(filepath.Join(out, model.ModelFileName), lay)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tutorial.LoadWeightsFile(ref+"tutorial_mae.pth", lay)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatal("converted parameters differ from the .pth")
	}
	tensors, _, err := model.LoadSafetensorsFile(filepath.Join(out, model.ModelFileName))
	if err != nil {
		t.Fatal(err)
	}
	for name := range tensors {
		if strings.HasPrefix(name, "patch_to_emb.") {
			t.Fatalf("alias %s written", name)
		}
	}
	if len(tensors) != 64 {
		t.Fatalf("%d tensors written, want the 64 distinct ones of the state_dict", len(tensors))
	}
	err = runConvert([]string{"--model", ref + "tutorial_mae.pth", "--config", ref + "tutorial_mae.config.json", "--out", out, "--f16"})
	if err == nil || !strings.Contains(err.Error(), "--f16 is not available") {
		t.Fatalf("--f16: %v", err)
	}
}

// `webmae reconstruct` with the tutorial's .pth writes the four panels and
// masks int(0.7*64) = 44 patches (the official rule would mask 45).
func TestReconstructTutorial(t *testing.T) {
	ref := "testdata/tutorial/"
	out := filepath.Join(t.TempDir(), "recon.png")
	if err := runReconstruct([]string{"--model", ref + "tutorial_mae.pth", "--config", ref + "tutorial_mae.config.json",
		"--image", "testdata/images/chelsea.png", "--ratio", "0.7", "--out", out, "--backend", "cpu"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dy() != 6*32 || b.Dx() < 4*6*32 {
		t.Fatalf("strip %v", b)
	}
	cfg, err := tutorial.LoadConfig(ref + "tutorial_mae.config.json")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := cfg.RandomMask(0.7, 0)
	if err != nil || mk.L-mk.K != 44 {
		t.Fatalf("mask of %d patches: %v", mk.L-mk.K, err)
	}
}
