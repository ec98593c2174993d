package gpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
)

// TestTrainingStepParity runs the whole MAE step (engine/mae: forward,
// backward, three AdamW updates) on the GPU and CPU backends from the same
// parameters, images and masking, for the `micro` preset with and without
// norm_pix_loss.
//
// Tolerances: every kernel is within a few float32 roundings per reduction
// (see the per-kernel tests), but errors compound through ~40 kernels and
// the residual stream, so the whole step is compared more loosely, on
// scales where any indexing or formula error is O(1):
//   - the loss of each of the three steps to 1e-5 relative;
//   - each tensor's gradient to 1e-3 of its largest magnitude, with a floor
//     of 1e-6 of the largest gradient of the model: the attention key bias
//     has an analytically zero gradient (softmax is invariant to adding
//     q.b_k to a whole row), so both backends return rounding noise there;
//   - parameters after three AdamW steps by RMS: 1e-2 of the RMS change.
//     AdamW normalises by sqrt(v) (+ eps 1e-8), so elements whose gradient
//     is tiny or rounding noise take lr-sized steps in a direction the noise
//     decides; an RMS bound tolerates those few while a wrong update
//     formula moves the RMS by O(1). Tensors with zero gradient are skipped.
func TestTrainingStepParity(t *testing.T) {
	g := gpuBackend(t)
	for _, normPix := range []bool{false, true} {
		cfg, err := model.Preset(model.PresetMicro)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NormPixLoss = normPix
		const batch = 3
		l, keep := cfg.NumPatches(), cfg.NumKeep(cfg.MaskRatio)
		rng := rand.New(rand.NewPCG(11, 12))
		images := make([]float32, batch*cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
		for i := range images {
			images[i] = float32(rng.NormFloat64())
		}
		mk, err := model.MaskFromNoise(model.RandomNoise(rng, batch, l), batch, l, keep)
		if err != nil {
			t.Fatal(err)
		}
		type run struct {
			m    *mae.Model
			p    *mae.Pass
			loss []float32
		}
		setup := func(k backend.Kernels) *run {
			m, err := mae.NewInit(k, cfg, 5)
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.NewPass(batch, keep)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.SetInputs(images, mk); err != nil {
				t.Fatal(err)
			}
			return &run{m: m, p: p}
		}
		gr, cr := setup(g), setup(cpu.New())
		var gGrads, cGrads []float32
		for step := 0; step < 3; step++ {
			for _, r := range []*run{gr, cr} {
				r.p.Forward()
				r.p.Backward()
				loss, err := r.p.Loss()
				if err != nil {
					t.Fatal(err)
				}
				r.loss = append(r.loss, loss)
				if step == 0 {
					grads, err := r.m.ReadGrads()
					if err != nil {
						t.Fatal(err)
					}
					if r == gr {
						gGrads = grads
					} else {
						cGrads = grads
					}
				}
				r.m.AdamW(1e-3)
			}
		}
		for s := range gr.loss {
			if d := math.Abs(float64(gr.loss[s] - cr.loss[s])); d > 1e-5*math.Abs(float64(cr.loss[s])) {
				t.Errorf("norm_pix=%v step %d: loss gpu %g cpu %g", normPix, s, gr.loss[s], cr.loss[s])
			}
		}
		t.Logf("norm_pix=%v losses gpu %v cpu %v", normPix, gr.loss, cr.loss)
		gp, err := gr.m.ReadParams()
		if err != nil {
			t.Fatal(err)
		}
		cp, _ := cr.m.ReadParams()
		init, _ := mae.NewInit(cpu.New(), cfg, 5)
		p0, _ := init.ReadParams()
		var global float64
		for _, v := range cGrads {
			global = max(global, math.Abs(float64(v)))
		}
		var worstG, worstP float64
		for _, ten := range gr.m.Layout.Trainable() {
			var gmax, dmax, change2, diff2 float64
			for i := ten.Off; i < ten.Off+ten.Len; i++ {
				gmax = max(gmax, math.Abs(float64(cGrads[i])))
				dmax = max(dmax, math.Abs(float64(gGrads[i]-cGrads[i])))
				change2 += sq(float64(cp[i] - p0[i]))
				diff2 += sq(float64(gp[i] - cp[i]))
			}
			if dmax > 1e-3*gmax+1e-6*global {
				t.Errorf("norm_pix=%v %s: gradient max |gpu-cpu| %.3g vs max |grad| %.3g", normPix, ten.Name, dmax, gmax)
			}
			worstG = max(worstG, dmax/(1e-3*gmax+1e-6*global))
			if gmax < 1e-6*global {
				continue // analytically zero gradient: parameters follow noise
			}
			worstP = max(worstP, math.Sqrt(diff2)/(1e-2*math.Sqrt(change2)+1e-8))
			if math.Sqrt(diff2) > 1e-2*math.Sqrt(change2)+1e-8 {
				t.Errorf("norm_pix=%v %s: params after 3 steps RMS |gpu-cpu| %.3g vs RMS change %.3g", normPix, ten.Name,
					math.Sqrt(diff2/float64(ten.Len)), math.Sqrt(change2/float64(ten.Len)))
			}
		}
		t.Logf("norm_pix=%v worst difference / tolerance: gradients %.2f, parameters %.2f", normPix, worstG, worstP)
	}
}

func sq(x float64) float64 { return x * x }
