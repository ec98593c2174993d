package ui

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
)

// heldOutSamples are the samples the fine-tuning measurement holds out:
// the two photographs make pretrain held out of the bundled default
// model's training too (PRETRAIN_HOLDOUT).
var heldOutSamples = []string{"chelsea", "coffee"}

// bundledDefault loads public/models, the page's default model, on k as
// the page does.
func bundledDefault(t *testing.T, k backend.Kernels) *loadedModel {
	t.Helper()
	dir := filepath.Join("..", "public", "models")
	cfg, params, _, err := model.LoadModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := os.ReadFile(filepath.Join(dir, recon.PreprocessorFileName))
	if err != nil {
		t.Fatal(err)
	}
	norm, err := recon.ParsePreprocessor(pre, cfg.NumChannels)
	if err != nil {
		t.Fatal(err)
	}
	lm, err := newLoadedModel(k, cfg, params, norm, BundledModels[0].Source)
	if err != nil {
		t.Fatal(err)
	}
	lm.Origin = originBundled
	return lm
}

// fineTuneHeldOut trains the bundled default model with settings s in the
// page's run on the samples other than heldOutSamples for steps steps and
// returns the masked-patch MSE on 16 held-out views (the centred squares
// and random crops of heldOutSamples, ratio 0.75, train's fixed eval
// masks) before and after.
func fineTuneHeldOut(t *testing.T, k backend.Kernels, s TrainSettings, steps int) (before, after float64) {
	t.Helper()
	cur := bundledDefault(t, k)
	pix, names := samplePixels(t)
	var trainPix, heldPix []recon.Pixels
	var trainNames, heldNames []string
	for i, name := range names {
		if slices.Contains(heldOutSamples, name) {
			heldPix, heldNames = append(heldPix, pix[i]), append(heldNames, name)
		} else {
			trainPix, trainNames = append(trainPix, pix[i]), append(trainNames, name)
		}
	}
	run, lm, err := newPageRun(k, s, cur, trainPix, trainNames, &train.MemStore{})
	if err != nil {
		t.Fatal(err)
	}
	if lm.Config != cur.Config || run.Net.(train.OfficialNet).Model != cur.Model {
		t.Fatalf("the run does not fine-tune the loaded model (%s)", lm.Source)
	}
	ds := &train.Dataset{Source: "held-out samples", Channels: 3, Held: heldPix, HeldNames: heldNames, Norm: cur.Norm, CropEval: true}
	set, err := train.NewEvalSet(ds, cur.Config, 16, train.EvalRatio, train.EvalMaskSeed)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := train.NewEvaluator(run.Net, set, 8)
	if err != nil {
		t.Fatal(err)
	}
	m0, err := ev.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, run, steps)
	m1, err := ev.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	return m0.MSE, m1.MSE
}

// fineTuneTolerance is how far (relative) the default may move the
// held-out MSE up: see TestFineTuneDefaultKeepsModel.
const fineTuneTolerance = 0.0005

// The form's default fine-tunes the loaded model without making it worse:
// 10 default steps on the samples leave the bundled default model's
// held-out masked MSE within 0.05% of where it was. Measured with this
// helper on the shipped default (batch 8, warmup 5, 10 steps; MSE 0.356417
// before): base lr 1e-3 raises it by 1.125%, 3e-4 by 0.180%, 1e-4 (the
// default) by 0.011%, 5e-5 and 3e-5 lower it by 0.003% and 0.004%. The
// bound passes the rates whose change is within the evaluation's noise
// and fails the ones that move the model measurably away from what it
// learnt (3e-4 and up). Each step also took the page's full recipe (crops,
// flips, AdamW from zero moments), whose first steps move every weight by
// about the learning rate.
func TestFineTuneDefaultKeepsModel(t *testing.T) {
	if testing.Short() {
		t.Skip("10 training steps of the 224-px model")
	}
	before, after := fineTuneHeldOut(t, cpu.New(), DefaultTrainSettings(), 10)
	t.Logf("held-out masked MSE %.6f -> %.6f after 10 default steps", before, after)
	if !(after <= before*(1+fineTuneTolerance)) {
		t.Errorf("10 default steps raised the held-out masked MSE from %.6f to %.6f (more than %.2f%%)", before, after, 100*fineTuneTolerance)
	}
}
