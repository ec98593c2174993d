package main

import (
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/tutorial"
)

// TestTrainTutorialCommand continues the tutorial reference model (the
// tutorial's keys, --init) for a few steps on the sample photos and reads
// the written model back; flags of the official family are refused.
func TestTrainTutorialCommand(t *testing.T) {
	out := t.TempDir()
	cfgPath := "testdata/tutorial/tutorial_mae.config.json"
	args := []string{"--config", cfgPath, "--init", "testdata/tutorial/tutorial_mae.safetensors", "--data", "testdata/images",
		"--steps", "3", "--batch", "2", "--warmup", "1", "--out", out, "--backend", "cpu"}
	if err := runTrain(args); err != nil {
		t.Fatal(err)
	}
	cfg, err := tutorial.LoadConfig(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tutorial.LoadWeightsFile(filepath.Join(out, "model.safetensors"), tutorial.NewLayout(cfg)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(args[:len(args):len(args)], "--resume"), "--resume: not available for the tutorial's family"},
		{[]string{"--config", "testdata/reference/mae_tiny.config.json", "--data", "testdata/images", "--out", out}, `not a "vit-pytorch-mae" config`},
		{[]string{"--init", "x.safetensors", "--data", "testdata/images", "--out", out}, "--init needs --config"},
	} {
		if err := runTrain(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("train %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}
