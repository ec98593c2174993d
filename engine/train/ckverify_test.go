package train

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webmae/engine/cpu"
	"webmae/engine/model"
)

// runSaving trains a fresh Fashion-MNIST run of steps steps in dir,
// checkpointing after every step (so the previous checkpoint is the one
// of step steps-1).
func runSaving(t *testing.T, dir string, steps int) {
	t.Helper()
	tr, err := New(cpu.New(), fashionConfig(t), loadFashion(t), DirStore{dir}, fashionOptions(steps))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{CheckpointEvery: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
}

// flipBit flips one bit of a file's byte at offset from the end.
func flipBit(t *testing.T, path string, fromEnd int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-fromEnd] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A flipped bit in the newest checkpoint is detected by its SHA-256; the
// run resumes from the previous checkpoint (and says so), with the
// damaged file set aside; with both damaged, resuming is refused.
func TestCheckpointIntegrity(t *testing.T) {
	ds := loadFashion(t)
	dir := t.TempDir()
	runSaving(t, dir, 3)
	cur, prev := filepath.Join(dir, CheckpointFileName), filepath.Join(dir, PrevCheckpointFileName)
	if run, _, err := ReadInfo(DirStore{dir}); err != nil || run.Step != 3 || run.Skipped != nil {
		t.Fatalf("intact run: %+v, %v", run, err)
	}
	flipBit(t, cur, 1000) // inside the tensor data
	run, _, err := ReadInfo(DirStore{dir})
	if err != nil || run.Step != 2 || run.From != prev || run.Skipped == nil || !strings.Contains(run.Skipped.Error(), "damaged: the SHA-256") {
		t.Fatalf("damaged newest: %+v, %v", run, err)
	}
	t.Logf("skipped: %v", run.Skipped)
	opts := fashionOptions(4)
	tr, err := Resume(cpu.New(), ds, DirStore{dir}, opts)
	if err != nil || tr.Step() != 2 {
		t.Fatalf("resume from the previous checkpoint: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DamagedCheckpointFileName)); err != nil {
		t.Fatalf("the damaged checkpoint was not set aside: %v", err)
	}
	if err := tr.Run(context.Background(), Hooks{CheckpointEvery: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	// The resumed run continues exactly: its losses equal a clean 4-step run's.
	clean := t.TempDir()
	runSaving(t, clean, 4)
	want, _ := Resume(cpu.New(), ds, DirStore{clean}, opts)
	if got := tr.Losses(); !equalF32(got, want.Losses()) {
		t.Fatalf("losses after the fallback %v, clean run %v", got, want.Losses())
	}

	flipBit(t, filepath.Join(dir, CheckpointFileName), 1000)
	flipBit(t, filepath.Join(dir, PrevCheckpointFileName), 2000)
	_, err = Resume(cpu.New(), ds, DirStore{dir}, opts)
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "previous checkpoint is not usable either") {
		t.Fatalf("both damaged: %v", err)
	}
	t.Logf("both damaged: %v", err)
}

// rewriteCheckpoint edits the checkpoint of dir and saves it with a
// matching digest (a well-formed file whose content is inconsistent).
func rewriteCheckpoint(t *testing.T, dir string, edit func(map[string]model.HostTensor, map[string]string)) {
	t.Helper()
	path := filepath.Join(dir, CheckpointFileName)
	tensors, meta, err := model.LoadSafetensorsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(tensors, meta)
	meta[ckDigest] = checkpointDigest(tensors, meta)
	if err := model.SaveSafetensorsFile(path, nil, tensors, meta, nil); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, PrevCheckpointFileName))
}

// Inconsistent checkpoints are refused: moments missing after steps were
// taken, an AdamW step count that differs from the step, non-finite
// parameters, an unknown format.
func TestCheckpointConsistency(t *testing.T) {
	ds := loadFashion(t)
	base := t.TempDir()
	runSaving(t, base, 2)
	for name, c := range map[string]struct {
		edit func(map[string]model.HostTensor, map[string]string)
		want string
	}{
		"no moments": {func(ts map[string]model.HostTensor, _ map[string]string) { delete(ts, ckM); delete(ts, ckV) },
			"AdamW moments required after 2 steps"},
		"no second moment": {func(ts map[string]model.HostTensor, _ map[string]string) { delete(ts, ckV) },
			"AdamW moments required after 2 steps"},
		"adamw steps": {func(_ map[string]model.HostTensor, m map[string]string) { m["adamw_steps"] = "5" },
			"step 2 but 5 AdamW steps"},
		"step beyond history": {func(_ map[string]model.HostTensor, m map[string]string) { m["step"], m["adamw_steps"] = "3", "3" },
			"history.loss missing or not 3 floats"},
		"NaN parameter": {func(ts map[string]model.HostTensor, _ map[string]string) { ts[ckParams].F32[7] = float32(nan()) },
			"parameter 7 is NaN"},
		"format": {func(_ map[string]model.HostTensor, m map[string]string) { m["format"] = "other" }, "format \"other\""},
	} {
		dir := t.TempDir()
		for _, f := range []string{CheckpointFileName} {
			b, _ := os.ReadFile(filepath.Join(base, f))
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		rewriteCheckpoint(t, dir, c.edit)
		_, err := Resume(cpu.New(), ds, DirStore{dir}, fashionOptions(4))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// A format-1 checkpoint (no digest) is still resumed.
	dir := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(base, CheckpointFileName))
	os.WriteFile(filepath.Join(dir, CheckpointFileName), b, 0o644)
	rewriteCheckpoint(t, dir, func(_ map[string]model.HostTensor, m map[string]string) { m["format"] = checkpointFormatV1 })
	run, _, err := ReadInfo(DirStore{dir})
	if err != nil || !run.Unverified || run.Step != 2 {
		t.Fatalf("format 1: %+v, %v", run, err)
	}
	if _, err := Resume(cpu.New(), ds, DirStore{dir}, fashionOptions(4)); err != nil {
		t.Fatalf("format 1: %v", err)
	}
}

func nan() float64 { var z float64; return z / z }

// FuzzCheckpointMeta checks that parsing a checkpoint's metadata never
// panics and that whatever is accepted is consistent: as many losses as
// steps, the parameters of the configuration's size, moments after a
// step. The digest is recomputed for each input so that the parser gets
// past it to the fields; the seed is a one-step checkpoint of a very
// small model.
func FuzzCheckpointMeta(f *testing.F) {
	cfg := fashionConfig(f) // shrunk so that each execution is fast
	cfg.ImageSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = 8, 4, 1, 1, 4
	cfg.DecoderHiddenSize, cfg.DecoderNumHiddenLayers, cfg.DecoderNumAttentionHeads, cfg.DecoderIntermediateSize = 4, 1, 1, 4
	n := model.NewLayout(cfg).Total
	flat := func(k int) model.HostTensor { return model.HostTensor{Shape: []int{k}, F32: make([]float32, k)} }
	tensors := map[string]model.HostTensor{ckParams: flat(n), ckM: flat(n), ckV: flat(n), ckLoss: flat(1), ckLR: flat(1)}
	cfgJSON, _ := cfg.MarshalHF()
	optsJSON, _ := json.Marshal(fashionOptions(1))
	rngState, _ := rand.NewPCG(1, 2).MarshalBinary()
	meta := map[string]string{"format": checkpointFormat, "step": "1", "adamw_steps": "1", "rng": hex.EncodeToString(rngState),
		"config": string(cfgJSON), "options": string(optsJSON), "evals": `[{"step":1,"mse":0.5,"psnr_db":9}]`}
	f.Add(meta["format"], meta["step"], meta["adamw_steps"], meta["rng"], meta["config"], meta["options"], meta["evals"], true)
	f.Add(checkpointFormatV1, "0", "0", meta["rng"], meta["config"], meta["options"], "null", false)
	f.Fuzz(func(t *testing.T, format, step, adamw, rng, config, options, evals string, moments bool) {
		m := map[string]string{"format": format, "step": step, "adamw_steps": adamw, "rng": rng,
			"config": config, "options": options, "evals": evals}
		ts := map[string]model.HostTensor{}
		for name, v := range tensors {
			if moments || (name != ckM && name != ckV) {
				ts[name] = v
			}
		}
		m[ckDigest] = checkpointDigest(ts, m)
		ck, err := parseCheckpoint(ts, m)
		if err != nil {
			return
		}
		if len(ck.losses) != ck.step || len(ck.lrs) != ck.step || len(ck.params) != model.NewLayout(ck.cfg).Total ||
			(ck.step > 0 && (len(ck.m) != len(ck.params) || len(ck.v) != len(ck.params))) {
			t.Fatalf("accepted an inconsistent checkpoint: step %d, %d losses, %d params, %d moments", ck.step, len(ck.losses), len(ck.params), len(ck.m))
		}
	})
}
