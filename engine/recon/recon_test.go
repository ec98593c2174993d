package recon

import (
	"math"
	"math/rand/v2"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
)

func randomImage(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

func TestPatchifyRoundTripAndOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range []struct{ c, h, w, p int }{{3, 8, 8, 4}, {1, 28, 28, 4}, {2, 6, 9, 3}, {3, 64, 64, 8}} {
		img := randomImage(rng, g.c*g.h*g.w)
		patches, err := Patchify(img, g.c, g.h, g.w, g.p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unpatchify(patches, g.c, g.h, g.w, g.p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range img {
			if back[i] != img[i] {
				t.Fatalf("%+v: round trip differs at %d", g, i)
			}
		}
		// Order (p, q, c), channel fastest: element (l, (i*P+j)*C+c) is
		// pixel (c, gy*P+i, gx*P+j) of patch l = gy*(W/P)+gx.
		gw, pd := g.w/g.p, g.p*g.p*g.c
		for l := 0; l < (g.h/g.p)*gw; l++ {
			gy, gx := l/gw, l%gw
			for i := 0; i < g.p; i++ {
				for j := 0; j < g.p; j++ {
					for c := 0; c < g.c; c++ {
						want := img[(c*g.h+gy*g.p+i)*g.w+gx*g.p+j]
						if got := patches[l*pd+(i*g.p+j)*g.c+c]; got != want {
							t.Fatalf("%+v: patch %d (%d,%d,%d) = %g, want %g", g, l, i, j, c, got, want)
						}
					}
				}
			}
		}
	}
	if _, err := Patchify(make([]float32, 3*8*8), 3, 8, 8, 3); err == nil {
		t.Fatal("patch size 3 of 8x8 accepted")
	}
}

// The host patchify must equal the kernels' (the CPU backend's).
func TestPatchifyMatchesKernel(t *testing.T) {
	k := cpu.New()
	c, s, p := 3, 16, 4
	img := randomImage(rand.New(rand.NewPCG(5, 6)), c*s*s)
	in, out := backend.Whole(k.NewBuffer(len(img))), backend.Whole(k.NewBuffer(len(img)))
	k.Write(in, img)
	k.Patchify(out, in, 1, c, s, s, p)
	got := make([]float32, len(img))
	if err := k.Read(out, got); err != nil {
		t.Fatal(err)
	}
	want, _ := Patchify(img, c, s, s, p)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kernel patchify differs at %d: %g vs %g", i, got[i], want[i])
		}
	}
}

func TestNormalizeRoundTrip(t *testing.T) {
	n := ImageNet()
	img := []float32{0, 1, 0.5, 0.485, 0.456, 0.406}
	orig := append([]float32(nil), img...)
	// 3 channels of 2 pixels.
	n.Normalize(img)
	if math.Abs(float64(img[0]-(0-0.485)/0.229)) > 1e-6 || math.Abs(float64(img[5])) > 1e-6 {
		t.Fatalf("normalised %v", img)
	}
	n.Denormalize(img)
	for i := range img {
		if math.Abs(float64(img[i]-orig[i])) > 1e-6 {
			t.Fatalf("round trip %v vs %v", img, orig)
		}
	}
	b, err := MarshalPreprocessor(Gray(0.286, 0.353), 28)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParsePreprocessor(b, 1)
	if err != nil || g.Mean[0] != 0.286 || g.Std[0] != 0.353 {
		t.Fatalf("preprocessor round trip: %v %v", g, err)
	}
	if _, err := ParsePreprocessor(b, 3); err == nil {
		t.Fatal("1-channel preprocessor config accepted for 3 channels")
	}
}

// tinyGeometry is a 1-channel 4x4 image with 2x2 patches (L = 4).
func tinyGeometry() model.Config {
	return model.Config{NumChannels: 1, ImageSize: 4, PatchSize: 2}
}

func TestComposeKnownValues(t *testing.T) {
	cfg := tinyGeometry()
	n := Gray(0.5, 0.25)
	image := make([]float32, 16)               // all 0: x = 0.5 in [0, 1]
	masked := []bool{false, true, false, true} // right half removed
	recon := make([]float32, 16)
	for i := range recon {
		recon[i] = 9 // visible values must be ignored
	}
	// Masked pixels: x >= 2. Errors 1 (8 values) -> MSE 1 and, in [0,1]
	// scale, 0.25^2 = 1/16 -> PSNR 10 log10(16).
	for y := 0; y < 4; y++ {
		for x := 2; x < 4; x++ {
			recon[y*4+x] = 1
		}
	}
	r, err := Compose(cfg, n, image, masked, recon)
	if err != nil {
		t.Fatal(err)
	}
	if r.NumValues != 8 || r.MSE != 1 || math.Abs(r.PSNR-10*math.Log10(16)) > 1e-12 {
		t.Fatalf("n=%d MSE=%g PSNR=%g", r.NumValues, r.MSE, r.PSNR)
	}
	// Clamping: a prediction of 4 is 1.5 in [0,1] scale, shown as 1: the
	// PSNR error is 0.5 per value, the MSE 16.
	for y := 0; y < 4; y++ {
		recon[y*4+2], recon[y*4+3] = 4, 4
	}
	r, _ = Compose(cfg, n, image, masked, recon)
	if r.MSE != 16 || math.Abs(r.PSNR-10*math.Log10(4)) > 1e-12 {
		t.Fatalf("clamped: MSE=%g PSNR=%g", r.MSE, r.PSNR)
	}
	for i, v := range r.Masked {
		if v != 0 {
			t.Fatalf("masked panel value %d = %g", i, v)
		}
		if x := i % 4; x >= 2 && r.Pasted[i] != 4 || x < 2 && r.Pasted[i] != 0 {
			t.Fatalf("pasted panel value %d = %g", i, r.Pasted[i])
		}
	}
	var m Meter
	m.Add(r)
	m.Add(r)
	if m.MSE() != 16 || m.PSNR() != r.PSNR || m.Images != 2 {
		t.Fatalf("meter %+v", m)
	}
	if !math.IsInf(PSNR(0), 1) {
		t.Fatal("PSNR of a perfect reconstruction is not +Inf")
	}
}

func TestBaselines(t *testing.T) {
	cfg := tinyGeometry()
	n := Gray(0.5, 0.25)
	masked := []bool{false, true, true, false}
	image := make([]float32, 16)
	for i := range image {
		image[i] = 2
	}
	for _, name := range []string{BaselineMean, BaselineIDW} {
		r, err := Baseline(name, cfg, n, image, masked)
		if err != nil {
			t.Fatal(err)
		}
		if r.MSE != 0 {
			t.Fatalf("%s on a constant image: MSE %g", name, r.MSE)
		}
	}
	// Mean-fill: visible patches 0 (top left) = 1 and 3 (bottom right) = 3
	// -> masked patches filled with 2.
	for i := range image {
		y, x := i/4, i%4
		switch {
		case y < 2 && x < 2:
			image[i] = 1
		case y >= 2 && x >= 2:
			image[i] = 3
		default:
			image[i] = 7
		}
	}
	img, _ := MeanFill(cfg, image, masked)
	r, _ := Compose(cfg, n, image, masked, img)
	if r.MSE != 25 {
		t.Fatalf("mean-fill MSE %g, want 25", r.MSE)
	}
	// IDW: by symmetry pixel (0, 3) sees patch 0 and patch 3 at mirrored
	// distances, so it is the mean 2; pixel (0, 2) is closer to patch 0.
	img, _ = InverseDistance(cfg, image, masked, 2)
	if math.Abs(float64(img[3]-2)) > 1e-6 || !(img[2] < 2 && img[2] > 1) {
		t.Fatalf("IDW values %v", img[:4])
	}
}

func newModel(t *testing.T, normPix bool) *mae.Model {
	t.Helper()
	cfg, err := model.Preset(model.PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NormPixLoss = normPix
	m, err := mae.NewInit(cpu.New(), cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The panels of a model reconstruction: visible patches pasted exactly,
// removed patches blank in the masked panel and predicted in the pasted
// one; MSE equal to the model's loss (plain pixels) or to the loss
// rescaled by each patch's std (norm_pix_loss).
func TestReconstructModel(t *testing.T) {
	for _, normPix := range []bool{false, true} {
		m := newModel(t, normPix)
		cfg := m.Config
		r, err := NewReconstructor(m, ImageNet())
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 3))
		image := randomImage(rng, cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
		mk, err := RandomMask(cfg.NumPatches(), cfg.NumKeep(0.75), 42)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Reconstruct(image, mk)
		if err != nil {
			t.Fatal(err)
		}
		if res.NormPix != normPix || res.NumMasked() != cfg.NumPatches()-mk.K {
			t.Fatalf("normPix %v, %d masked", res.NormPix, res.NumMasked())
		}
		s, p, g := cfg.ImageSize, cfg.PatchSize, cfg.GridSize()
		for ch := 0; ch < cfg.NumChannels; ch++ {
			for y := 0; y < s; y++ {
				for x := 0; x < s; x++ {
					i := (ch*s+y)*s + x
					if res.Mask[(y/p)*g+x/p] {
						if res.Masked[i] != 0 || res.Pasted[i] != res.Recon[i] {
							t.Fatalf("removed pixel %d: masked %g, pasted %g, recon %g", i, res.Masked[i], res.Pasted[i], res.Recon[i])
						}
					} else if res.Pasted[i] != image[i] || res.Masked[i] != image[i] {
						t.Fatalf("visible pixel %d: pasted %g, masked %g, image %g", i, res.Pasted[i], res.Masked[i], image[i])
					}
				}
			}
		}
		pass, _ := r.Pass(mk.K)
		loss, err := pass.Loss()
		if err != nil {
			t.Fatal(err)
		}
		want := res.MSE
		if normPix {
			// loss = mean over removed patches of mean_j ((recon-x)/std_p)^2.
			target, _ := Patchify(image, cfg.NumChannels, s, s, p)
			reconP, _ := Patchify(res.Recon, cfg.NumChannels, s, s, p)
			pd, sum := cfg.PatchDim(), 0.0
			for l, rem := range res.Mask {
				if !rem {
					continue
				}
				_, std := patchStats(target[l*pd : (l+1)*pd])
				for j := l * pd; j < (l+1)*pd; j++ {
					d := (float64(reconP[j]) - float64(target[j])) / std
					sum += d * d
				}
			}
			want = sum / float64(res.NumValues)
		}
		if math.Abs(float64(loss)-want) > 1e-4*want {
			t.Fatalf("normPix %v: loss %g, recomputed %g", normPix, loss, want)
		}
		// A second call with the same input is identical (pass reuse).
		again, _ := r.Reconstruct(image, mk)
		if again.MSE != res.MSE {
			t.Fatalf("repeat MSE %g vs %g", again.MSE, res.MSE)
		}
		strip, w, h, err := Strip(res, ImageNet(), 2, 3)
		if err != nil || w != 4*96+6 || h != 96 || len(strip) != 4*w*h {
			t.Fatalf("strip %dx%d (%d bytes): %v", w, h, len(strip), err)
		}
	}
}

func TestHandMadeMaskChangesK(t *testing.T) {
	m := newModel(t, false)
	r, _ := NewReconstructor(m, ImageNet())
	image := randomImage(rand.New(rand.NewPCG(8, 8)), 3*32*32)
	masked := make([]bool, 16)
	masked[0], masked[5], masked[15] = true, true, true
	mk, err := MaskFromMasked(masked)
	if err != nil {
		t.Fatal(err)
	}
	if mk.K != 13 {
		t.Fatalf("K = %d", mk.K)
	}
	res, err := r.Reconstruct(image, mk)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.Mask {
		if v != masked[i] {
			t.Fatalf("mask %v, want %v", res.Mask, masked)
		}
	}
	if _, err := MaskFromMasked(make([]bool, 16)); err == nil {
		t.Fatal("a mask removing nothing was accepted")
	}
}

func TestMasks(t *testing.T) {
	a, _ := RandomMask(64, 16, 7)
	b, _ := RandomMask(64, 16, 7)
	c, _ := RandomMask(64, 16, 8)
	same := func(x, y model.Masking) bool {
		for i := range x.Keep {
			if x.Keep[i] != y.Keep[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) || same(a, c) {
		t.Fatal("random mask not determined by its seed")
	}
	for grid := 2; grid <= 14; grid += 3 {
		l := grid * grid
		for _, ratio := range []float64{0.1, 0.5, 0.75, 0.9} {
			keep := max(1, min(l-1, int(float64(l)*(1-ratio))))
			for seed := uint64(0); seed < 20; seed++ {
				mk, err := BlockMask(grid, keep, seed)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, v := range mk.Mask {
					n += int(v)
				}
				if mk.K != keep || n != l-keep {
					t.Fatalf("grid %d keep %d seed %d: K %d, %d masked", grid, keep, seed, mk.K, n)
				}
			}
		}
	}
}

func TestResize(t *testing.T) {
	// Identity: a crop the size of the output returns the pixels.
	p := Pixels{W: 3, H: 2, C: 1, Pix: []uint8{0, 51, 102, 153, 204, 255}}
	for _, f := range []Filter{Bicubic, Bilinear} {
		out, err := p.Resize(Box{0, 0, 3, 2}, 3, 2, f)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range out {
			if math.Abs(float64(v)-float64(p.Pix[i])/255) > 1e-6 {
				t.Fatalf("filter %d identity: %v", f, out)
			}
		}
	}
	// 2x bilinear downscale, PIL semantics: the triangle is stretched to
	// support 2, so output 0 (centre 1.0) weighs pixels 0, 1, 2 by 0.75,
	// 0.75, 0.25.
	row := Pixels{W: 4, H: 1, C: 1, Pix: []uint8{0, 100, 200, 255}}
	out, _ := row.Resize(Box{0, 0, 4, 1}, 2, 1, Bilinear)
	if want := (0.75*100 + 0.25*200) / 1.75 / 255; math.Abs(float64(out[0])-want) > 1e-6 {
		t.Fatalf("bilinear downscale %g, want %g", out[0], want)
	}
	// A constant image stays constant under any crop and filter.
	flat := Pixels{W: 10, H: 7, C: 3, Pix: make([]uint8, 210)}
	for i := range flat.Pix {
		flat.Pix[i] = 77
	}
	out, _ = flat.Resize(Box{1.5, 0.25, 9, 6.5}, 5, 4, Bicubic)
	for _, v := range out {
		if math.Abs(float64(v)-77.0/255) > 1e-6 {
			t.Fatalf("constant image resized to %g", v)
		}
	}
	if _, err := flat.Resize(Box{0, 0, 11, 7}, 5, 5, Bicubic); err == nil {
		t.Fatal("crop outside the image accepted")
	}
	img, note, err := flat.Fit(4)
	if err != nil || len(img) != 3*16 || note == "" {
		t.Fatalf("fit: %d values, note %q, %v", len(img), note, err)
	}
}

func TestRGBAConversions(t *testing.T) {
	rgba := []uint8{255, 0, 0, 9, 0, 0, 255, 9}
	gray, err := FromRGBA(rgba, 2, 1, 1)
	if err != nil || gray.Pix[0] != 76 || gray.Pix[1] != 29 {
		t.Fatalf("luma %v %v", gray.Pix, err)
	}
	rgb, _ := gray.WithChannels(3)
	if rgb.Pix[3] != 29 || rgb.Pix[5] != 29 {
		t.Fatalf("gray to RGB %v", rgb.Pix)
	}
	// Normalised values out of range clamp; gray shows on all three.
	n := Gray(0.5, 0.5)
	out, err := ToRGBA([]float32{-3, 3, 0}, 1, 3, n)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 0, 0, 255, 255, 255, 255, 255, 128, 128, 128, 255}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("ToRGBA %v, want %v", out, want)
		}
	}
}
