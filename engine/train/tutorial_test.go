package train

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/recon"
	"webmae/engine/tutorial"
)

// smallTutorial is a small tutorial-family config for Fashion-MNIST.
var smallTutorial = tutorial.Config{Architecture: tutorial.Architecture, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10,
	Dim: 32, Depth: 2, Heads: 2, DimHead: 16, MlpDimRatio: 2, Pool: "cls", DecoderDim: 24, DecoderDepth: 1,
	DecoderHeads: 2, DecoderDimHead: 12, MaskingRatio: 0.75}

func newTutorialRun(t *testing.T, ds *Dataset, store Store, opts Options) *Trainer {
	t.Helper()
	net, err := InitTutorial(cpu.New(), smallTutorial, opts.Seed)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewFrom(net, ds, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTutorialTrains trains the small tutorial-family model through
// Trainer.Run on Fashion-MNIST: the loss of the last 20 steps must be
// below that of the first 20 by at least 20% (measured 1.27 -> 0.86 with
// this seed), the held-out MSE must beat the mean-fill baseline (measured
// 0.794 vs 0.890 on 64 images; IDW, 0.589, is not yet beaten after 200
// steps), and the exported
// model must load back to the trained parameters.
func TestTutorialTrains(t *testing.T) {
	ds := loadFashion(t)
	dir := t.TempDir()
	opts := Options{Steps: 200, Batch: 16, BaseLR: 1.5e-3 * 256 / 16, Warmup: 20, Seed: 3, EvalImages: 64}
	tr := newTutorialRun(t, ds, DirStore{dir}, opts)
	var losses []float64
	if err := tr.Run(context.Background(), Hooks{OnStep: func(s StepInfo) { losses = append(losses, s.Loss) }}); err != nil {
		t.Fatal(err)
	}
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	first, last := mean(losses[:20]), mean(losses[len(losses)-20:])
	q, err := tr.QualityReport()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mean loss of the first 20 steps %.4f, of the last 20 %.4f; held-out MSE %.4f, mean-fill %.4f, IDW %.4f",
		first, last, q.Model.MSE, q.Baselines[recon.BaselineMean].MSE, q.Baselines[recon.BaselineIDW].MSE)
	if !(last < 0.8*first) {
		t.Fatalf("loss did not fall: first 20 steps %.4f, last 20 %.4f", first, last)
	}
	if !(q.Model.MSE < q.Baselines[recon.BaselineMean].MSE) {
		t.Fatalf("held-out MSE %.4f does not beat mean-fill %.4f", q.Model.MSE, q.Baselines[recon.BaselineMean].MSE)
	}
	back, err := tutorial.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil || back != smallTutorial {
		t.Fatalf("saved config %+v, %v", back, err)
	}
	net := tr.Net.(TutorialNet)
	saved, err := tutorial.LoadWeightsFile(filepath.Join(dir, "model.safetensors"), net.Layout)
	if err != nil {
		t.Fatal(err)
	}
	trained, _ := net.ReadParams()
	if !equalF32(saved, trained) {
		t.Fatal("the exported model differs from the trained parameters")
	}
	info, found, err := ReadInfo(DirStore{dir})
	if err != nil || !found || info.Family != FamilyTutorial || info.Config != smallTutorial.Geometry() || info.Step != 200 {
		t.Fatalf("info %+v, %v, %v", info, found, err)
	}
	bad := Options{Steps: 1, Batch: 1, BaseLR: 1, MaskRatio: 0.01}
	if _, err := NewFrom(net, ds, &MemStore{}, bad); err == nil {
		t.Fatal("a ratio that masks no patch was accepted")
	}
	bad.MaskRatio, bad.F16 = 0.75, true
	if _, err := NewFrom(net, ds, &MemStore{}, bad); err == nil {
		t.Fatal("a half-precision export of the tutorial family was accepted")
	}
}

// TestTutorialResumeIsExact interrupts a tutorial-family run and resumes
// it from its checkpoint: the losses, evaluations, checkpoint and exports
// must equal those of the uninterrupted run bit for bit.
func TestTutorialResumeIsExact(t *testing.T) {
	ds := loadFashion(t)
	opts := Options{Steps: 7, Batch: 8, BaseLR: 1.5e-3, Warmup: 2, Seed: 5, EvalEvery: 3, EvalImages: 16}
	full := t.TempDir()
	tr := newTutorialRun(t, ds, DirStore{full}, opts)
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	want, wantEvals := tr.Losses(), tr.Evals()

	dir := t.TempDir()
	tr = newTutorialRun(t, ds, DirStore{dir}, opts)
	ctx, cancel := context.WithCancel(context.Background())
	err := tr.Run(ctx, Hooks{OnStep: func(s StepInfo) {
		if s.Step == 4 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) || tr.Step() != 4 {
		t.Fatalf("interrupt: step %d, %v", tr.Step(), err)
	}
	bad := opts
	bad.Seed = 6
	if _, err := Resume(cpu.New(), ds, DirStore{dir}, bad); err == nil {
		t.Fatal("resumed with another seed")
	}
	tr, err = Resume(cpu.New(), ds, DirStore{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.Net.(TutorialNet); !ok {
		t.Fatalf("resumed a %T, want a TutorialNet", tr.Net)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	if got := tr.Losses(); !equalF32(got, want) {
		t.Fatalf("resumed losses %v\nuninterrupted   %v", got, want)
	}
	if got := tr.Evals(); len(got) != len(wantEvals) || len(got) != 3 {
		t.Fatalf("resumed evals %+v, uninterrupted %+v", got, wantEvals)
	}
	for i, e := range tr.Evals() {
		if e != wantEvals[i] {
			t.Fatalf("eval %d: resumed %+v, uninterrupted %+v", i, e, wantEvals[i])
		}
	}
	for _, f := range []string{CheckpointFileName, "model.safetensors", "config.json", CSVFileName, SVGFileName, QualityFileName} {
		a, _ := os.ReadFile(filepath.Join(full, f))
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", f)
		}
	}
	t.Logf("losses %v", want)
}
