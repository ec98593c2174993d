package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"webmae/engine/harness"
	"webmae/engine/model"
)

// TestForwardCommand runs `webmae forward` on the official-named reference
// weights and on the PyTorch checkpoints of the same parameters
// (testdata/make_pth.py), and checks every file it writes against the
// PyTorch outputs.
func TestForwardCommand(t *testing.T) {
	ref := "testdata/reference/"
	cases := []struct{ model, config, ref string }{
		{ref + "mae_tiny_normpix.timm.safetensors", ref + "mae_tiny_normpix.config.json", "mae_tiny_normpix"},
		{"testdata/pth/mae_tiny.official.pth", ref + "mae_tiny.config.json", "mae_tiny"},
		{"testdata/pth/mae_tiny_normpix.legacy.pth", ref + "mae_tiny_normpix.config.json", "mae_tiny_normpix"},
		{"testdata/pth/mae_tiny.strided.pth", ref + "mae_tiny.config.json", "mae_tiny"},
		{"testdata/pth/hf", "", "mae_tiny"}, // pytorch_model.bin + config.json
	}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "out.safetensors")
		err := runForward([]string{"--model", c.model, "--config", c.config,
			"--inputs", ref + c.ref + ".io.safetensors", "--out", out, "--adamw-steps", "3", "--lr", "1e-3"})
		if err != nil {
			t.Fatalf("%s: %v", c.model, err)
		}
		got := loadOrFail(t, out)
		rep := harness.Compare(resultOf(got), loadOrFail(t, ref+c.ref+".io.safetensors"), 1e-3)
		for _, f := range rep.Failures {
			t.Errorf("%s: %s", c.model, f)
		}
		if len(got) != 127 {
			t.Errorf("%s: wrote %d tensors, want 127 (loss, logits, mask, ids_restore, step_losses, 60 gradients, 62 parameters)", c.model, len(got))
		}
	}
}

func loadOrFail(t *testing.T, path string) map[string]model.HostTensor {
	t.Helper()
	m, _, err := model.LoadSafetensorsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func resultOf(tensors map[string]model.HostTensor) *harness.Result {
	res := &harness.Result{Tensors: tensors}
	for n := range tensors {
		res.Names = append(res.Names, n)
	}
	return res
}

// TestForwardBF16Checkpoint: bfloat16 weights are the reference rounded to
// 8 significant bits, so only the loss is compared, within 2%.
func TestForwardBF16Checkpoint(t *testing.T) {
	ref := "testdata/reference/"
	out := filepath.Join(t.TempDir(), "out.safetensors")
	err := runForward([]string{"--model", "testdata/pth/mae_tiny.bf16.pth", "--config", ref + "mae_tiny.config.json",
		"--inputs", ref + "mae_tiny.io.safetensors", "--out", out})
	if err != nil {
		t.Fatal(err)
	}
	got, want := loadOrFail(t, out)["loss"].F32[0], loadOrFail(t, ref+"mae_tiny.io.safetensors")["loss"].F32[0]
	if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.02 {
		t.Errorf("bfloat16 loss %g vs %g: %.2f%% apart (limit 2%%)", got, want, 100*rel)
	}
}

// TestMaliciousCheckpointsRunNothing loads checkpoints whose unpickling
// would run a command in Python: they are refused naming the global, the
// one with the command in a skipped entry loads, and nothing ran.
func TestMaliciousCheckpointsRunNothing(t *testing.T) {
	const pwned = "/tmp/webmae-pwned-by-pickle" // what testdata/make_pth.py's payloads touch
	os.Remove(pwned)
	for file, want := range map[string]string{"evil.zip.pth": "refusing posix.system in checkpoint['model'][\"w\"]", "evil.legacy.pth": "refusing __builtin__.eval"} {
		_, err := model.LoadTensorsFile("testdata/pth/" + file)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", file, err, want)
		}
	}
	if _, _, _, err := model.LoadModelWithConfig("testdata/pth/evil_optimizer.pth", "testdata/reference/mae_tiny.config.json"); err != nil {
		t.Errorf("evil_optimizer.pth (os.system only in the skipped 'optimizer'): %v", err)
	}
	if _, err := os.Stat(pwned); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after loading the malicious checkpoints (stat: %v)", pwned, err)
	}
}

// TestConvertCommand converts the official .pth into a Hugging Face
// directory and checks that it gives bit-identical logits.
func TestConvertCommand(t *testing.T) {
	ref := "testdata/reference/"
	dir := filepath.Join(t.TempDir(), "hf")
	src := "testdata/pth/mae_tiny.official.pth"
	if err := runConvert([]string{"--model", src, "--config", ref + "mae_tiny.config.json", "--out", dir}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"model.safetensors", "config.json", "preprocessor_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	logits := func(args ...string) []float32 {
		out := filepath.Join(t.TempDir(), "out.safetensors")
		if err := runForward(append(args, "--inputs", ref+"mae_tiny.io.safetensors", "--out", out)); err != nil {
			t.Fatal(err)
		}
		return loadOrFail(t, out)["logits"].F32
	}
	a, b := logits("--model", src, "--config", ref+"mae_tiny.config.json"), logits("--model", dir)
	if !slices.Equal(a, b) {
		t.Error("the converted model's logits differ from the .pth's")
	}
	if err := runConvert([]string{"--model", "testdata/pth/mae_tiny.encoder.pth", "--config", ref + "mae_tiny.config.json", "--out", dir + "2"}); err == nil ||
		!strings.Contains(err.Error(), "encoder-only") {
		t.Errorf("convert of an encoder-only checkpoint: %v", err)
	}
	if _, err := os.Stat(dir + "2"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed convert left %s2 behind", dir)
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
		{[]string{"--model", ref + "missing.safetensors", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "missing.safetensors"},
		{[]string{"--model", "testdata/pth/evil.zip.pth", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "refusing posix.system"},
		{[]string{"--model", "testdata/pth/mae_tiny.encoder.pth", "--config", ref + "mae_tiny.config.json", "--inputs", ref + "mae_tiny.io.safetensors", "--out", dir + "/o"}, "mae_visualize_vit_base.pth"},
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
