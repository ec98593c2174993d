package train

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// Where the demo's sample photos are committed.
const samplesDir = "../../public/web/samples"

// shippedModels are the models the page offers, with the margins by which
// each must beat baseline (a), mean fill, and baseline (b),
// inverse-distance interpolation, in masked-patch MSE: the 224-px default
// 40% below (a) and below (b), the small 64-px option 30% below (a) and
// below (b). The gap to (b) is logged: the default is 5.2% below it, short
// of the 10% its issue asked for (its model card says why).
var shippedModels = []struct {
	dir       string
	belowMean float64
	beatsIDW  bool
}{
	{"../../public/models", 0.40, true},
	{"../../public/models/tiny-64", 0.30, true},
}

// Each shipped model beats both baselines by its margins on the held-out
// crops its quality.json names, and the numbers of its model card
// (quality.json) are reproduced. Forward passes only.
func TestShippedModelQuality(t *testing.T) {
	for _, sm := range shippedModels {
		t.Run(filepath.Base(sm.dir), func(t *testing.T) {
			checkShippedModel(t, sm.dir, sm.belowMean, sm.beatsIDW)
		})
	}
}

func checkShippedModel(t *testing.T, shippedModelDir string, belowMean float64, beatsIDW bool) {
	qb, err := os.ReadFile(filepath.Join(shippedModelDir, QualityFileName))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no shipped model yet (%s)", filepath.Join(shippedModelDir, QualityFileName))
	}
	if err != nil {
		t.Fatal(err)
	}
	var q Quality
	if err := json.Unmarshal(qb, &q); err != nil {
		t.Fatal(err)
	}
	cfg, params, _, err := model.LoadModel(shippedModelDir)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := os.ReadFile(filepath.Join(shippedModelDir, recon.PreprocessorFileName))
	if err != nil {
		t.Fatal(err)
	}
	norm, err := recon.ParsePreprocessor(pre, cfg.NumChannels)
	if err != nil {
		t.Fatal(err)
	}
	// The training directory held the sample photos under photos/ (beside
	// the clip art); the same files ship in public/web/samples.
	held := make([]string, len(q.HeldOut))
	for i, h := range q.HeldOut {
		held[i] = filepath.Base(h)
	}
	ds, err := LoadDir(samplesDir, cfg.NumChannels, held)
	if err != nil {
		t.Fatal(err)
	}
	for c := range norm.Mean {
		if norm.Mean[c] != ds.Norm.Mean[c] || norm.Std[c] != ds.Norm.Std[c] {
			t.Fatalf("model normalisation %v, data set %v", norm, ds.Norm)
		}
	}
	set, err := NewEvalSet(ds, cfg, q.EvalImages, q.Ratio, q.MaskSeed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvaluateModel(cpu.New(), cfg, params, set)
	if err != nil {
		t.Fatal(err)
	}
	base, err := set.Baselines()
	if err != nil {
		t.Fatal(err)
	}
	mean, idw := base[recon.BaselineMean], base[recon.BaselineIDW]
	t.Logf("held out %v, %d crops: model MSE %.4f (%.2f dB), mean-fill %.4f (%.2f dB), idw %.4f (%.2f dB); model card: %.4f",
		q.HeldOut, len(set.Images), got.MSE, got.PSNR, mean.MSE, mean.PSNR, idw.MSE, idw.PSNR, q.Model.MSE)
	if !(got.MSE <= (1-belowMean)*mean.MSE) {
		t.Errorf("model MSE %.4f is not %.0f%% below mean fill %.4f", got.MSE, 100*belowMean, mean.MSE)
	}
	t.Logf("vs inverse-distance interpolation: %+.1f%%", 100*(got.MSE/idw.MSE-1))
	if beatsIDW && !(got.MSE < idw.MSE) {
		t.Errorf("model MSE %.4f does not beat inverse-distance interpolation %.4f", got.MSE, idw.MSE)
	}
	// The card was measured with F32 weights during training; the shipped
	// file may be F16, which moves the MSE by far less than 2%. The
	// baselines do not depend on the weights and match exactly.
	if math.Abs(got.MSE-q.Model.MSE) > 0.02*q.Model.MSE {
		t.Errorf("model card says model MSE %.4f; measured %.4f", q.Model.MSE, got.MSE)
	}
	for name, m := range base {
		if card := q.Baselines[name].MSE; math.Abs(m.MSE-card) > 1e-9 {
			t.Errorf("model card says baseline %s MSE %.4f; measured %.4f", name, card, m.MSE)
		}
	}
}
