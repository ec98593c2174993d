package main

import (
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/harness"
	"webmae/engine/model"
)

// TestForwardCommand runs `webmae forward` on the official-named reference
// weights and checks the file it writes against the PyTorch outputs.
func TestForwardCommand(t *testing.T) {
	ref := "testdata/reference/"
	out := filepath.Join(t.TempDir(), "out.safetensors")
	err := runForward([]string{"--model", ref + "mae_tiny_normpix.timm.safetensors", "--config", ref + "mae_tiny_normpix.config.json",
		"--inputs", ref + "mae_tiny_normpix.io.safetensors", "--out", out, "--adamw-steps", "3", "--lr", "1e-3"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := model.LoadSafetensorsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := model.LoadSafetensorsFile(ref + "mae_tiny_normpix.io.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	res := &harness.Result{Tensors: got}
	for n := range got {
		res.Names = append(res.Names, n)
	}
	rep := harness.Compare(res, want, 1e-3)
	for _, f := range rep.Failures {
		t.Error(f)
	}
	if len(got) != 127 {
		t.Errorf("wrote %d tensors, want 127 (loss, logits, mask, ids_restore, step_losses, 60 gradients, 62 parameters)", len(got))
	}
}

func TestForwardCommandErrors(t *testing.T) {
	ref := "testdata/reference/"
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", ref + "mae_tiny.safetensors"}, "required"},
		{[]string{"--model", ref + "missing.safetensors", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "config"},
		{[]string{"--model", ref + "mae_tiny.config.json", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "mae_tiny.config.json"},
		{[]string{"--model", ref + "mae_tiny.safetensors", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.safetensors", "--out", dir + "/o"}, "pixel_values"},
		{[]string{"--model", ref + "mae_tiny.io.safetensors", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "no Hugging Face ViTMAE"},
		{[]string{"--model", ref + "mae_tiny.safetensors", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o", "--backend", "tpu"}, "backend"},
	}
	for _, c := range cases {
		err := runForward(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("forward %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}
