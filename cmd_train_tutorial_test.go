package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// TestTrainTutorialCommand continues the tutorial reference model (the
// tutorial's keys, --init) for a few steps on the sample photos through
// the one training loop: it writes the model, a checkpoint and
// quality.json, --resume (no --config: the checkpoint names the family)
// continues it, and flags of the official family are refused.
func TestTrainTutorialCommand(t *testing.T) {
	out := t.TempDir()
	cfgPath := "testdata/tutorial/tutorial_mae.config.json"
	args := []string{"--config", cfgPath, "--init", "testdata/tutorial/tutorial_mae.safetensors", "--data", "testdata/images",
		"--steps", "3", "--batch", "2", "--warmup", "1", "--eval-images", "4", "--out", out, "--backend", "cpu"}
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
	if _, err := os.Stat(filepath.Join(out, train.QualityFileName)); err != nil {
		t.Fatal(err)
	}
	if err := runTrain([]string{"--resume", "--out", out, "--data", "testdata/images", "--steps", "5", "--backend", "cpu"}); err != nil {
		t.Fatal(err)
	}
	info, found, err := train.ReadInfo(train.DirStore{Dir: out})
	if err != nil || !found || info.Family != train.FamilyTutorial || info.Step != 5 || len(info.Losses) != 5 {
		t.Fatalf("resumed run: %+v, %v, %v", info, found, err)
	}
	imgDir := t.TempDir()
	if png, err := os.ReadFile("testdata/images/brick.png"); err != nil || os.WriteFile(filepath.Join(imgDir, "brick.png"), png, 0o644) != nil {
		t.Fatal("copying an image into a temporary --data directory failed")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(args[:len(args):len(args)], "--resume"), "--resume: not available with --config"},
		{append(args[:len(args):len(args)], "--f16"), "--f16: not available with --config"},
		{[]string{"--config", "testdata/reference/mae_tiny.config.json", "--data", "testdata/images", "--out", out}, `not a "vit-pytorch-mae" config`},
		{[]string{"--init", "x.safetensors", "--data", "testdata/images", "--out", out}, "--init needs --config"},
		// The checks every run shares (checkTrainRun) apply to this family too.
		{[]string{"--config", cfgPath, "--data", imgDir, "--out", imgDir, "--backend", "cpu"}, "is the --data directory"},
		{[]string{"--config", cfgPath, "--data", "testdata/images", "--out", t.TempDir(), "--base-lr", "NaN"}, "finite learning rate"},
	} {
		if err := runTrain(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("train %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
	}
}
