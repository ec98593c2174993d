package explore

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// microReconstructor is a seeded `micro` model (32 px, patch 8: 16
// patches) on k.
func microReconstructor(t *testing.T, k backend.Kernels) *recon.Reconstructor {
	t.Helper()
	cfg, err := model.Preset(model.PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mae.NewInit(k, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	n, err := recon.DefaultNorm(cfg.NumChannels)
	if err != nil {
		t.Fatal(err)
	}
	r, err := recon.NewReconstructor(m, n)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testImage(cfg model.Config, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := make([]float32, cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	return img
}

// Every sweep point is the pooled MSE of the same reconstructions made by
// direct calls: the Reconstructor for the model, MeanFill and
// InverseDistance composed for the baselines, on the masks RandomMask and
// BlockMask draw with the same seeds.
func TestSweepMatchesDirectCalls(t *testing.T) {
	r := microReconstructor(t, cpu.New())
	cfg := r.Model().Config
	img := testImage(cfg, 3)
	sc := SweepConfig{Ratios: []float64{0.1, 0.3, 0.5, 0.75, 0.9}, Masks: 2, Seed: 40, Kinds: []string{MaskRandom, MaskBlock}}
	calls := 0
	pts, err := Sweep(r, img, sc, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if want := len(sc.Ratios) * len(sc.Kinds) * len(Predictors); len(pts) != want || calls != len(sc.Ratios) {
		t.Fatalf("%d points and %d progress calls, want %d and %d", len(pts), calls, want, len(sc.Ratios))
	}
	l := cfg.NumPatches()
	for _, pt := range pts {
		sum := 0.0
		for i := 0; i < sc.Masks; i++ {
			var mk model.Masking
			if pt.Kind == MaskRandom {
				mk, err = recon.RandomMask(l, NumKeep(l, pt.Ratio), sc.Seed+uint64(i))
			} else {
				mk, err = recon.BlockMask(cfg.GridSize(), NumKeep(l, pt.Ratio), sc.Seed+uint64(i))
			}
			if err != nil {
				t.Fatal(err)
			}
			masked := recon.Masked(mk, 0)
			var img2 []float32
			switch pt.Predictor {
			case PredictorModel:
				res, err := r.Reconstruct(img, mk)
				if err != nil {
					t.Fatal(err)
				}
				img2 = res.Recon
			case recon.BaselineMean:
				img2, err = recon.MeanFill(cfg, img, masked)
			case recon.BaselineIDW:
				img2, err = recon.InverseDistance(cfg, img, masked, recon.IDWPower)
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := recon.Compose(cfg, r.Norm(), img, masked, img2)
			if err != nil {
				t.Fatal(err)
			}
			if res.MSE != pt.PerMask[i] {
				t.Fatalf("%s %s ratio %g mask %d: MSE %g, direct %g", pt.Kind, pt.Predictor, pt.Ratio, i, pt.PerMask[i], res.MSE)
			}
			sum += res.MSE
		}
		// Same number of removed values per mask: pooled = mean.
		if want := sum / float64(sc.Masks); math.Abs(pt.MSE-want) > 1e-12*want {
			t.Fatalf("%s %s ratio %g: pooled MSE %g, mean of masks %g", pt.Kind, pt.Predictor, pt.Ratio, pt.MSE, want)
		}
	}
	for _, bad := range []SweepConfig{{Ratios: nil, Masks: 1, Kinds: []string{MaskRandom}},
		{Ratios: []float64{1}, Masks: 1, Kinds: []string{MaskRandom}},
		{Ratios: []float64{0.5}, Masks: 0, Kinds: []string{MaskRandom}},
		{Ratios: []float64{0.5}, Masks: 1, Kinds: []string{"stripes"}}} {
		if _, err := Sweep(r, img, bad, nil); err == nil {
			t.Fatalf("sweep %+v: no error", bad)
		}
	}
}

// Every patch is reported by exactly one pass, in which it is masked, and
// the passes use the ratio the plan documents.
func TestCompletePlan(t *testing.T) {
	for _, c := range []struct {
		l     int
		r     float64
		k, m  int
		ratio float64
	}{{16, 0.75, 4, 3, 0.75}, {64, 0.75, 4, 3, 0.75}, {64, 0.5, 2, 1, 0.5}, {64, 0.25, 4, 1, 0.25}, {64, 0.9, 10, 9, 0}, {64, 0.1, 10, 1, 0}, {4, 0.99, 4, 3, 0.75}} {
		p, err := PlanComplete(c.l, c.r, 7)
		if err != nil {
			t.Fatal(err)
		}
		if p.K != c.k || p.M != c.m {
			t.Fatalf("l %d r %g: K %d M %d, want %d %d", c.l, c.r, p.K, p.M, c.k, c.m)
		}
		if c.ratio > 0 && p.Ratio() != c.ratio {
			t.Fatalf("l %d r %g: pass ratio %g, want %g", c.l, c.r, p.Ratio(), c.ratio)
		}
		reported := make([]int, c.l)
		for k, g := range p.Groups {
			masked := p.Masked(k)
			for _, patch := range g {
				reported[patch]++
				if !masked[patch] {
					t.Fatalf("l %d r %g: pass %d reports patch %d but sees it", c.l, c.r, k, patch)
				}
			}
			kept := 0
			for _, m := range masked {
				if !m {
					kept++
				}
			}
			if kept == 0 {
				t.Fatalf("l %d r %g: pass %d keeps nothing", c.l, c.r, k)
			}
		}
		for patch, n := range reported {
			if n != 1 {
				t.Fatalf("l %d r %g: patch %d reported %d times", c.l, c.r, patch, n)
			}
		}
	}
	if _, err := PlanComplete(16, 0, 1); err == nil {
		t.Fatal("ratio 0: no error")
	}
}

// The combined image is each pass's own reconstruction on the patches it
// reports, and its MSE the mean over every value.
func TestCompleteMatchesPasses(t *testing.T) {
	r := microReconstructor(t, cpu.New())
	cfg := r.Model().Config
	img := testImage(cfg, 9)
	res, err := Complete(r, img, 0.75, 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.NumMasked() != cfg.NumPatches() || res.NumValues != len(img) {
		t.Fatalf("%d patches / %d values counted, want all %d / %d", res.NumMasked(), res.NumValues, cfg.NumPatches(), len(img))
	}
	s, p, g := cfg.ImageSize, cfg.PatchSize, cfg.GridSize()
	sse := 0.0
	for k := 0; k < res.Plan.K; k++ {
		mk, err := recon.MaskFromMasked(res.Plan.Masked(k))
		if err != nil {
			t.Fatal(err)
		}
		direct, err := r.Reconstruct(img, mk)
		if err != nil {
			t.Fatal(err)
		}
		for _, patch := range res.Plan.Groups[k] {
			if res.Source[patch] != k {
				t.Fatalf("patch %d from pass %d, plan says %d", patch, res.Source[patch], k)
			}
			for ch := 0; ch < cfg.NumChannels; ch++ {
				for y := (patch / g) * p; y < (patch/g+1)*p; y++ {
					for x := (patch % g) * p; x < (patch%g+1)*p; x++ {
						i := (ch*s+y)*s + x
						if res.Recon[i] != direct.Recon[i] {
							t.Fatalf("patch %d value %d: %g, pass %d gives %g", patch, i, res.Recon[i], k, direct.Recon[i])
						}
						d := float64(direct.Recon[i]) - float64(img[i])
						sse += d * d
					}
				}
			}
		}
	}
	if want := sse / float64(len(img)); math.Abs(res.MSE-want) > 1e-12*want {
		t.Fatalf("MSE %g, recomputed %g", res.MSE, want)
	}
}

// The sweep and the complete reconstruction give the CPU backend's values
// on WebGPU. Tolerance 1e-4 relative: reconstruction MSEs are means of
// squares of predictions that agree within ~1e-6 of values of order 1
// (README's parity table).
func TestSweepAndCompleteOnWebGPU(t *testing.T) {
	g := gpuKernels(t)
	rc, rg := microReconstructor(t, cpu.New()), microReconstructor(t, g)
	img := testImage(rc.Model().Config, 4)
	sc := SweepConfig{Ratios: []float64{0.25, 0.75}, Masks: 1, Seed: 2, Kinds: []string{MaskRandom, MaskBlock}}
	pc, err := Sweep(rc, img, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Sweep(rg, img, sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pc {
		if math.Abs(pc[i].MSE-pg[i].MSE) > 1e-4*pc[i].MSE {
			t.Errorf("%s %s ratio %g: webgpu %g, cpu %g", pc[i].Kind, pc[i].Predictor, pc[i].Ratio, pg[i].MSE, pc[i].MSE)
		}
	}
	cc, err := Complete(rc, img, 0.75, 1)
	if err != nil {
		t.Fatal(err)
	}
	cg, err := Complete(rg, img, 0.75, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("complete MSE cpu %.7g webgpu %.7g", cc.MSE, cg.MSE)
	if math.Abs(cc.MSE-cg.MSE) > 1e-4*cc.MSE {
		t.Errorf("complete MSE webgpu %g, cpu %g", cg.MSE, cc.MSE)
	}
}
