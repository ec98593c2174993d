//go:build unix

package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"webmae/engine/model"
	"webmae/engine/train"
)

const refDir = "testdata/reference/"

// copyFile copies src to dst (creating dst's directory).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(b))
}

// badInput is one bad command line and what its error must say.
type badInput struct {
	name string
	run  func() error
	want string
}

// checkBadInputs runs every case with a deadline: each must return an
// error containing its text (no panic, no hang, no success) within 20 s.
// It logs how many were handled cleanly.
func checkBadInputs(t *testing.T, cases []badInput) {
	t.Helper()
	clean := 0
	for _, c := range cases {
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %v", r)
				}
			}()
			done <- c.run()
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.HasPrefix(err.Error(), "panic:") {
				t.Errorf("%s: %v; want an error containing %q", c.name, err, c.want)
				continue
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: the error is not one line: %q", c.name, err)
				continue
			}
			clean++
			t.Logf("%s: %v", c.name, err)
		case <-time.After(20 * time.Second):
			t.Errorf("%s: no answer after 20 s (hangs)", c.name)
		}
	}
	t.Logf("bad inputs: %d tried, %d handled cleanly", len(cases), clean)
}

// A model directory (weights, config, preprocessor config) copied from
// the reference fixtures.
func modelDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "model")
	copyFile(t, refDir+"mae_tiny.safetensors", filepath.Join(dir, model.ModelFileName))
	copyFile(t, refDir+"mae_tiny.config.json", filepath.Join(dir, model.ConfigFileName))
	return dir
}

// Outputs that resolve to an input, oversized outputs and non-regular or
// non-finite inputs of reconstruct and forward are refused, and the input
// files stay as they were.
func TestReconstructAndForwardRefuseBadInputs(t *testing.T) {
	dir := t.TempDir()
	md := modelDir(t)
	img := filepath.Join(dir, "photo.jpg")
	copyFile(t, "testdata/images/coffee.jpg", img)
	photo, _ := os.ReadFile(img)
	alias := filepath.Join(dir, "alias.jpg")
	os.Symlink(img, alias)
	fifo := filepath.Join(dir, "fifo.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.safetensors")
	os.Symlink("/dev/zero", zero)
	out := filepath.Join(dir, "out.png")

	// A model whose decoder_pred.bias holds a NaN and one with +Inf.
	nanDir, infDir := filepath.Join(dir, "nan"), filepath.Join(dir, "inf")
	for d, v := range map[string]float32{nanDir: float32(math.NaN()), infDir: float32(math.Inf(1))} {
		tensors, _, err := model.LoadSafetensorsFile(refDir + "mae_tiny.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		tensors["decoder.decoder_pred.bias"].F32[3] = v
		os.MkdirAll(d, 0o755)
		if err := model.SaveSafetensorsFile(filepath.Join(d, model.ModelFileName), nil, tensors, nil, nil); err != nil {
			t.Fatal(err)
		}
		copyFile(t, refDir+"mae_tiny.config.json", filepath.Join(d, model.ConfigFileName))
	}
	// A preprocessor config that is /dev/zero.
	zeroPre := filepath.Join(dir, "zeropre")
	copyFile(t, refDir+"mae_tiny.safetensors", filepath.Join(zeroPre, model.ModelFileName))
	copyFile(t, refDir+"mae_tiny.config.json", filepath.Join(zeroPre, model.ConfigFileName))
	os.Symlink("/dev/zero", filepath.Join(zeroPre, "preprocessor_config.json"))
	// Inputs with a NaN in the noise.
	nanNoise := filepath.Join(dir, "nan-noise.safetensors")
	{
		tensors, _, err := model.LoadSafetensorsFile(refDir + "mae_tiny.io.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		tensors["noise"].F32[5] = float32(math.NaN())
		if err := model.SaveSafetensorsFile(nanNoise, []string{"pixel_values", "noise"}, tensors, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	fwdModel := filepath.Join(dir, "fwd.safetensors")
	copyFile(t, refDir+"mae_tiny.safetensors", fwdModel)
	fwdInputs := filepath.Join(dir, "fwd.io.safetensors")
	copyFile(t, refDir+"mae_tiny.io.safetensors", fwdInputs)
	cfgPath := refDir + "mae_tiny.config.json"

	rec := func(args ...string) func() error {
		return func() error { return runReconstruct(append(args, "--backend", "cpu")) }
	}
	fwd := func(args ...string) func() error { return func() error { return runForward(args) } }
	cases := []badInput{
		{"reconstruct --out = --image", rec("--model", md, "--image", img, "--out", img), "refusing to overwrite an input"},
		{"reconstruct --out = symlink to --image", rec("--model", md, "--image", img, "--out", alias), "refusing to overwrite an input"},
		{"reconstruct --out = the model's weights", rec("--model", md, "--image", img, "--out", filepath.Join(md, model.ModelFileName)), "refusing to overwrite an input"},
		{"reconstruct --out = the model's config", rec("--model", md, "--image", img, "--out", filepath.Join(md, "..", "model", model.ConfigFileName)), "refusing to overwrite an input"},
		{"reconstruct --scale 100000", rec("--model", md, "--image", img, "--out", out, "--scale", "100000"), "exceed 32768 pixels a side"},
		{"reconstruct --scale 3000", rec("--model", md, "--image", img, "--out", out, "--scale", "3000"), "exceed 32768 pixels a side"},
		{"reconstruct --scale 1000", rec("--model", md, "--image", img, "--out", out, "--scale", "1000"), "megapixel limit"},
		{"reconstruct --scale -1", rec("--model", md, "--image", img, "--out", out, "--scale", "-1"), "positive magnification"},
		{"reconstruct --model /dev/zero", rec("--model", "/dev/zero", "--config", cfgPath, "--image", img, "--out", out), "not a regular file"},
		{"reconstruct --model symlink to /dev/zero", rec("--model", zero, "--config", cfgPath, "--image", img, "--out", out), "not a regular file"},
		{"reconstruct --model FIFO", rec("--model", fifo, "--config", cfgPath, "--image", img, "--out", out), "named pipe"},
		{"reconstruct --config /dev/zero", rec("--model", md, "--config", "/dev/zero", "--image", img, "--out", out), "not a regular file"},
		{"reconstruct --config FIFO", rec("--model", md, "--config", fifo, "--image", img, "--out", out), "named pipe"},
		{"reconstruct --image /dev/zero", rec("--model", md, "--image", "/dev/zero", "--out", out), "not a regular file"},
		{"reconstruct --image FIFO", rec("--model", md, "--image", fifo, "--out", out), "named pipe"},
		{"reconstruct preprocessor config /dev/zero", rec("--model", zeroPre, "--image", img, "--out", out), "not a regular file"},
		{"reconstruct NaN weight", rec("--model", nanDir, "--image", img, "--out", out), "decoder.decoder_pred.bias (1 of"},
		{"reconstruct Inf weight", rec("--model", infDir, "--image", img, "--out", out), "with NaN or infinite values"},
		{"forward --out = --model", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", fwdModel), "refusing to overwrite an input"},
		{"forward --out = --inputs", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", fwdInputs), "refusing to overwrite an input"},
		{"forward --out = --config", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", cfgPath), "refusing to overwrite an input"},
		{"forward --lr Inf", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", out, "--adamw-steps", "1", "--lr", "Inf"), "finite lr"},
		{"forward --lr NaN", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", out, "--adamw-steps", "1", "--lr", "NaN"), "finite lr"},
		{"forward --lr -1", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fwdInputs, "--out", out, "--adamw-steps", "1", "--lr", "-1"), "finite lr"},
		{"forward NaN noise", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", nanNoise, "--out", out), "noise[5] is NaN"},
		{"forward --inputs /dev/zero", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", "/dev/zero", "--out", out), "not a regular file"},
		{"forward --inputs FIFO", fwd("--model", fwdModel, "--config", cfgPath, "--inputs", fifo, "--out", out), "named pipe"},
	}
	checkBadInputs(t, cases)
	if b, _ := os.ReadFile(img); !bytes.Equal(b, photo) {
		t.Error("the input photo changed")
	}
	for _, f := range []string{fwdModel, fwdInputs} {
		a, _ := os.ReadFile(f)
		b, _ := os.ReadFile(refDir + filepath.Base(strings.Replace(strings.Replace(f, "fwd.io", "mae_tiny.io", 1), "fwd.", "mae_tiny.", 1)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s changed", f)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused command wrote its output")
	}
}

// Training sizes whose memory would not fit, a matmul benchmark too large, non-finite learning rates,
// an output directory that is the data, and IDX or checkpoint inputs that
// are not regular files are refused before anything is allocated.
func TestTrainRefusesBadInputs(t *testing.T) {
	dir := t.TempDir()
	fm := "fashion-mnist:testdata/fashion-mnist"
	base := []string{"--preset", "micro", "--image-size", "28", "--patch-size", "4", "--steps", "2", "--batch", "8", "--eval-images", "16", "--backend", "cpu"}
	trainWith := func(args ...string) func() error {
		return func() error { return runTrain(append(append([]string(nil), base...), args...)) }
	}
	out := filepath.Join(dir, "run")
	// IDX files that are /dev/zero and a FIFO.
	zeroIDX, fifoIDX := filepath.Join(dir, "zero-idx"), filepath.Join(dir, "fifo-idx")
	for _, d := range []string{zeroIDX, fifoIDX} {
		os.MkdirAll(d, 0o755)
	}
	for _, f := range []string{"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"} {
		os.Symlink("/dev/zero", filepath.Join(zeroIDX, f))
		if err := syscall.Mkfifo(filepath.Join(fifoIDX, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A run directory whose checkpoint is a symlink to /dev/zero.
	zeroRun := filepath.Join(dir, "zero-run")
	os.MkdirAll(zeroRun, 0o755)
	os.Symlink("/dev/zero", filepath.Join(zeroRun, train.CheckpointFileName))
	prevRun := filepath.Join(dir, "prev-run")
	writeFile(t, filepath.Join(prevRun, train.PrevCheckpointFileName), "x")
	imgDir := filepath.Join(dir, "images")
	copyFile(t, "testdata/images/coffee.jpg", filepath.Join(imgDir, "coffee.jpg"))
	copyFile(t, "testdata/images/brick.png", filepath.Join(imgDir, "brick.png"))

	cases := []badInput{
		{"train --batch 1000000", trainWith("--data", fm, "--out", out, "--batch", "1000000"), "memory limit"},
		{"train --image-size 4096 --patch-size 16 --batch 1", func() error {
			return runTrain([]string{"--preset", "tiny", "--image-size", "4096", "--patch-size", "16", "--batch", "1", "--data", fm, "--out", out})
		}, "memory limit"},
		{"train --image-size 2048 --patch-size 1", func() error {
			return runTrain([]string{"--preset", "tiny", "--image-size", "2048", "--patch-size", "1", "--data", fm, "--out", out})
		}, "limit"},
		{"train --eval-images 1000000000", trainWith("--data", fm, "--out", out, "--eval-images", "1000000000"), "over the limit of 100000"},
		{"train --base-lr Inf", trainWith("--data", fm, "--out", out, "--base-lr", "Inf"), "finite learning rate"},
		{"train --base-lr NaN", trainWith("--data", fm, "--out", out, "--base-lr", "NaN"), "finite learning rate"},
		{"train --base-lr -1", trainWith("--data", fm, "--out", out, "--base-lr", "-1"), "finite learning rate"},
		{"train --out = --data", trainWith("--data", imgDir, "--out", imgDir, "--channels", "3"), "is the --data directory"},
		{"train IDX /dev/zero", trainWith("--data", "fashion-mnist:"+zeroIDX, "--out", out), "not a regular file"},
		{"train IDX FIFO", trainWith("--data", "fashion-mnist:"+fifoIDX, "--out", out), "named pipe"},
		{"train fresh over a previous checkpoint", trainWith("--data", fm, "--out", prevRun), "holds a previous checkpoint"},
		{"bench --matmul 100000", func() error { return runBench([]string{"--matmul", "100000"}) }, "want 1 to 8192"},
		{"train --resume checkpoint symlink to /dev/zero", func() error {
			return runTrain([]string{"--data", fm, "--out", zeroRun, "--resume", "--backend", "cpu"})
		}, "not a regular file"},
	}
	checkBadInputs(t, cases)
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run created its output directory")
	}
}

// prepare-images refuses an output directory that is, or lies inside, the
// source tree (its PNGs would replace the originals).
func TestPrepareImagesRefusesItsSource(t *testing.T) {
	src := t.TempDir()
	copyFile(t, "testdata/images/brick.png", filepath.Join(src, "brick.png"))
	orig, _ := os.ReadFile(filepath.Join(src, "brick.png"))
	os.Symlink(src, filepath.Join(t.TempDir(), "link"))
	cases := []badInput{
		{"prepare-images --out = --src", func() error { return runPrepareImages([]string{"--src", src, "--out", src}) }, "inside --src"},
		{"prepare-images --out inside --src", func() error {
			return runPrepareImages([]string{"--src", src, "--out", filepath.Join(src, "small")})
		}, "inside --src"},
		{"prepare-images --out = --src/.", func() error { return runPrepareImages([]string{"--src", src, "--out", src + "/."}) }, "inside --src"},
	}
	checkBadInputs(t, cases)
	if b, _ := os.ReadFile(filepath.Join(src, "brick.png")); !bytes.Equal(b, orig) {
		t.Error("the source image changed")
	}
}

// TestTrainHelperProcess is the child of TestTrainSavesOnSIGHUP: it runs
// `webmae train` with the arguments in WEBMAE_TRAIN_ARGS.
func TestTrainHelperProcess(t *testing.T) {
	args := os.Getenv("WEBMAE_TRAIN_ARGS")
	if args == "" {
		t.Skip("only run as a child process")
	}
	if err := runTrain(strings.Split(args, "\x1f")); err != nil {
		fmt.Fprintf(os.Stderr, "webmae train: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// SIGHUP (a closed terminal) saves a checkpoint like Ctrl-C, and stale
// temporary files of an interrupted write are removed at start.
func TestTrainSavesOnSIGHUP(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, ".loss.svg.tmp-12345")
	writeFile(t, stale, "partial")
	args := []string{"--preset", "micro", "--image-size", "28", "--patch-size", "4", "--data", "fashion-mnist:testdata/fashion-mnist",
		"--steps", "100000", "--batch", "8", "--eval-images", "16", "--eval-every", "0", "--out", out, "--backend", "cpu"}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainHelperProcess$")
	cmd.Env = append(os.Environ(), "WEBMAE_TRAIN_ARGS="+strings.Join(args, "\x1f"))
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), "baselines on the eval set") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the run did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("after SIGHUP: %v\n%s", err, stderr.String())
	}
	run, found, err := train.ReadInfo(train.DirStore{Dir: out})
	if err != nil || !found {
		t.Fatalf("no checkpoint after SIGHUP: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(stale); err == nil || !strings.Contains(stderr.String(), "removed 1 temporary file") {
		t.Errorf("the stale temporary file is still there:\n%s", stderr.String())
	}
	t.Logf("SIGHUP: checkpoint at step %d", run.Step)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
