package main

import (
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/harness"
	"webmae/engine/model"
)

// TestForwardCommandTutorial runs `webmae forward` with a vit-pytorch-mae
// config on both tutorial references and checks the written file.
func TestForwardCommandTutorial(t *testing.T) {
	ref := "testdata/tutorial/"
	for _, c := range []struct {
		base  string
		grads int
	}{{"tutorial_mae", 61}, {"tutorial_mae_identity", 42}} {
		out := filepath.Join(t.TempDir(), "out.safetensors")
		err := runForward([]string{"--model", ref + c.base + ".safetensors", "--config", ref + c.base + ".config.json",
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
