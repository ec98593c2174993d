package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webmae/engine/harness"
	"webmae/engine/model"
)

// TestForwardCommandTutorial runs `webmae forward` with a vit-pytorch-mae
// config on both tutorial references (torch.save and safetensors weights)
// and checks the written file; a directory with config.json works too.
func TestForwardCommandTutorial(t *testing.T) {
	ref := "testdata/tutorial/"
	for _, c := range []struct {
		base, ext string
		grads     int
	}{{"tutorial_mae", ".pth", 61}, {"tutorial_mae_identity", ".pth", 42}, {"tutorial_mae_identity", ".safetensors", 42}} {
		out := filepath.Join(t.TempDir(), "out.safetensors")
		err := runForward([]string{"--model", ref + c.base + c.ext, "--config", ref + c.base + ".config.json",
			"--inputs", ref + c.base + ".io.safetensors", "--out", out})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := model.LoadSafetensorsFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := model.LoadSafetensorsFile(ref + c.base + ".io.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		res := &harness.Result{Tensors: got}
		for n := range got {
			res.Names = append(res.Names, n)
		}
		for _, f := range harness.Compare(res, want, 1e-3).Failures {
			t.Errorf("%s: %s", c.base, f)
		}
		if len(got) != 3+c.grads {
			t.Errorf("%s: wrote %d tensors, want %d (loss, logits, mask, %d gradients)", c.base, len(got), 3+c.grads, c.grads)
		}
	}
}

// A directory holding config.json and pytorch_model.bin (the tutorial's
// torch.save file) is a --model too.
func TestForwardCommandTutorialDirectory(t *testing.T) {
	ref := "testdata/tutorial/"
	dir := t.TempDir()
	for src, dst := range map[string]string{"tutorial_mae.pth": model.PyTorchModelFileName, "tutorial_mae.config.json": model.ConfigFileName} {
		b, err := os.ReadFile(ref + src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "out.safetensors")
	if err := runForward([]string{"--model", dir, "--inputs", ref + "tutorial_mae.io.safetensors", "--out", out}); err != nil {
		t.Fatal(err)
	}
	got, _, err := model.LoadSafetensorsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["grad.encoder.to_patch_embedding.2.weight"]; !ok {
		t.Fatalf("no tutorial gradients written: %d tensors", len(got))
	}
}

func TestForwardCommandTutorialErrors(t *testing.T) {
	ref := "testdata/tutorial/"
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", ref + "tutorial_mae_identity.safetensors", "--config", ref + "tutorial_mae.config.json",
			"--inputs", ref + "tutorial_mae.io.safetensors", "--out", dir + "/o"}, "does the config match the weights?"},
		{[]string{"--model", ref + "tutorial_mae.safetensors", "--config", ref + "tutorial_mae.config.json",
			"--inputs", ref + "tutorial_mae_identity.io.safetensors", "--out", dir + "/o"}, "pixel_values shape"},
	} {
		err := runForward(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("forward %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}

// With --adamw-steps the tutorial family writes step_losses and the
// parameters after the steps: the tensors the MAE does not use
// (encoder.cls_token, encoder.mlp_head.*) come out unchanged, every used
// one has moved, and the loss on the same batch falls.
func TestForwardCommandTutorialAdamW(t *testing.T) {
	ref := "testdata/tutorial/"
	out := filepath.Join(t.TempDir(), "out.safetensors")
	if err := runForward([]string{"--model", ref + "tutorial_mae.pth", "--config", ref + "tutorial_mae.config.json",
		"--inputs", ref + "tutorial_mae.io.safetensors", "--out", out, "--adamw-steps", "3", "--lr", "1e-3"}); err != nil {
		t.Fatal(err)
	}
	got, _, err := model.LoadSafetensorsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := model.LoadSafetensorsFile(ref + "tutorial_mae.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	sl := got["step_losses"].F32
	if len(sl) != 3 || sl[0] != got["loss"].F32[0] || !(sl[2] < sl[0]) {
		t.Fatalf("step_losses %v, loss %v", sl, got["loss"].F32)
	}
	for name, b := range before {
		if strings.HasPrefix(name, "patch_to_emb.") {
			continue
		}
		a, ok := got["step3."+name]
		if !ok {
			t.Fatalf("step3.%s not written", name)
		}
		unused := name == "encoder.cls_token" || strings.HasPrefix(name, "encoder.mlp_head.")
		if moved := !slices.Equal(a.F32, b.F32); moved == unused {
			t.Errorf("%s: moved %v after 3 AdamW steps", name, moved)
		}
	}
}
