package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

const (
	fashionDir = "../../testdata/fashion-mnist"
	imagesDir  = "../../testdata/images"
)

// load reads a --data argument as the command does.
func load(spec string, channels int, holdout []string) (*Dataset, error) {
	src, err := ParseSource(spec, holdout)
	if err != nil {
		return nil, err
	}
	return src.Load(channels)
}

// fashionConfig is the 1-channel micro model for Fashion-MNIST: 28 px,
// patch 4, the micro preset's widths.
func fashionConfig(t testing.TB) model.Config {
	cfg, err := model.Preset(model.PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ImageSize, cfg.PatchSize, cfg.NumChannels = 28, 4, 1
	return cfg
}

func loadFashion(t testing.TB) *Dataset {
	ds, err := load(FashionMNISTPrefix+fashionDir, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestFashionMNIST(t *testing.T) {
	ds := loadFashion(t)
	if len(ds.Train) != 256 || len(ds.Held) != 64 || ds.Train[0].W != 28 || ds.Train[0].C != 1 {
		t.Fatalf("%d train, %d held, %+v", len(ds.Train), len(ds.Held), ds.Train[0].W)
	}
	// The full training set has mean 0.2860 and std 0.3530; the subset is close.
	if m, s := ds.Norm.Mean[0], ds.Norm.Std[0]; math.Abs(float64(m)-0.286) > 0.03 || math.Abs(float64(s)-0.353) > 0.03 {
		t.Fatalf("norm %v", ds.Norm)
	}
	var buf bytes.Buffer
	if err := WriteIDXImages(&buf, [][]uint8{ds.Train[0].Pix, ds.Train[1].Pix}, 28, 28); err != nil {
		t.Fatal(err)
	}
	imgs, rows, cols, err := ReadIDXImages(&buf)
	if err != nil || len(imgs) != 2 || rows != 28 || cols != 28 || !bytes.Equal(imgs[1], ds.Train[1].Pix) {
		t.Fatalf("IDX round trip: %d images %dx%d: %v", len(imgs), rows, cols, err)
	}
	if _, _, _, err := ReadIDXImages(bytes.NewReader([]byte{0, 0, 8, 1, 0, 0, 0, 1})); err == nil {
		t.Fatal("a label file was read as images")
	}
	if _, err := load(FashionMNISTPrefix+t.TempDir(), 1, nil); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Fatalf("missing files: %v", err)
	}
}

// pngHeader returns a PNG signature and IHDR chunk claiming w x h: enough
// for image.DecodeConfig, no pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	data := make([]byte, 13)
	binary.BigEndian.PutUint32(data[0:], w)
	binary.BigEndian.PutUint32(data[4:], h)
	data[8], data[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), data...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestLoadDir(t *testing.T) {
	ds, err := load(imagesDir, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Train) != 3 || len(ds.Held) != 1 || ds.Norm.Channels() != 3 || !ds.CropEval {
		t.Fatalf("%d train, %d held (%v), norm %v", len(ds.Train), len(ds.Held), ds.HeldNames, ds.Norm)
	}
	for i, p := range append(ds.Train, ds.Held...) {
		if p.C != 3 || p.Validate() != nil {
			t.Fatalf("image %d: %dx%dx%d", i, p.W, p.H, p.C)
		}
	}
	// Same names in another order: same split.
	if a, b := DefaultHoldout([]string{"a", "b", "c", "d", "e", "f", "g", "h"}), DefaultHoldout([]string{"h", "g", "f", "e", "d", "c", "b", "a"}); len(a) != 2 || a[0] != b[0] || a[1] != b[1] {
		t.Fatalf("holdout %v vs %v", a, b)
	}
	gray, err := load(imagesDir, 1, []string{"brick.png", "rocket.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gray.Held) != 2 || gray.Train[0].C != 1 || gray.Norm.Channels() != 1 {
		t.Fatalf("gray: %v held, norm %v", gray.HeldNames, gray.Norm)
	}
	if _, err := load(imagesDir, 3, []string{"nope.png"}); err == nil {
		t.Fatal("unknown held-out name accepted")
	}

	// Bad files: each error names the file.
	for _, bad := range []struct{ name, content, want string }{
		{"notes.png", "just some text", "not a decodable"},
		{"huge.png", string(pngHeader(8000, 6000)), "megapixel limit"},
		{"cut.png", string(pngHeader(64, 64)), "decode png"},
	} {
		dir := t.TempDir()
		for _, n := range []string{"a.png", "b.png"} {
			data, _ := os.ReadFile(filepath.Join(imagesDir, "brick.png"))
			os.WriteFile(filepath.Join(dir, n), data, 0o644)
		}
		os.WriteFile(filepath.Join(dir, bad.name), []byte(bad.content), 0o644)
		_, err := LoadDir(dir, 3, nil)
		if err == nil || !strings.Contains(err.Error(), bad.name) || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("%s: error %v", bad.name, err)
		}
	}
}

func TestCropBoxAndAugment(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 2000; i++ {
		w, h := 20+rng.IntN(500), 20+rng.IntN(500)
		b := CropBox(rng, w, h)
		cw, ch := b.X1-b.X0, b.Y1-b.Y0
		if b.X0 < 0 || b.Y0 < 0 || b.X1 > float64(w) || b.Y1 > float64(h) || cw < 1 || ch < 1 {
			t.Fatalf("%dx%d: box %+v", w, h, b)
		}
		if w == h { // on a square image the sampled box always fits
			if frac := cw * ch / float64(w*h); frac < 0.15 || frac > 1 {
				t.Fatalf("area fraction %g", frac)
			}
			if r := cw / ch; r < 0.7 || r > 1.4 {
				t.Fatalf("aspect %g", r)
			}
		}
	}
	// Very elongated images fall back to the centred crop with the ratio
	// clamped.
	if b := CropBox(rng, 1000, 10); b.Y1-b.Y0 != 10 || b.X1-b.X0 != 13 {
		t.Fatalf("fallback box %+v", b)
	}
	ds, err := load(imagesDir, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Augment(rand.New(rand.NewPCG(5, 5)), ds.Train[0], 32, ds.Norm)
	b, _ := Augment(rand.New(rand.NewPCG(5, 5)), ds.Train[0], 32, ds.Norm)
	c, _ := Augment(rand.New(rand.NewPCG(6, 5)), ds.Train[0], 32, ds.Norm)
	if len(a) != 3*32*32 || !equalF32(a, b) || equalF32(a, c) {
		t.Fatal("augmentation not determined by the seed")
	}
	img := []float32{1, 2, 3, 4, 5, 6}
	FlipHorizontal(img, 1, 2, 3)
	if !equalF32(img, []float32{3, 2, 1, 6, 5, 4}) {
		t.Fatalf("flip %v", img)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestSchedule(t *testing.T) {
	s := Schedule{BaseLR: 1.5e-4, Batch: 512, Warmup: 10, Steps: 110}
	peak := 3e-4
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0}, {5, peak / 2}, {10, peak}, {60, peak / 2}, {110, 0}, {200, 0}} {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Fatalf("LR(%d) = %g, want %g", c.step, got, c.want)
		}
	}
}

func TestEvalSetAndBaselines(t *testing.T) {
	ds := loadFashion(t)
	cfg := fashionConfig(t)
	set, err := NewEvalSet(ds, cfg, 1000, EvalRatio, EvalMaskSeed)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Images) != 64 || set.Mask.K != cfg.NumKeep(0.75) {
		t.Fatalf("%d images, K %d", len(set.Images), set.Mask.K)
	}
	small, _ := NewEvalSet(ds, cfg, 10, EvalRatio, EvalMaskSeed)
	if !equalF32(small.Mask.Mask, set.Mask.Mask[:10*49]) {
		t.Fatal("an image's mask depends on the eval set size")
	}
	mean, err := set.Baseline(recon.BaselineMean)
	if err != nil {
		t.Fatal(err)
	}
	idw, err := set.Baseline(recon.BaselineIDW)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Fashion-MNIST subset baselines: mean-fill %+v, IDW %+v", mean, idw)
	if !(idw.MSE < mean.MSE) || !(idw.PSNR > mean.PSNR) || mean.Images != 64 {
		t.Fatalf("mean-fill %+v, IDW %+v", mean, idw)
	}
	photos, err := load(imagesDir, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	tiny, _ := model.Preset(model.PresetMicro)
	ps, err := NewEvalSet(photos, tiny, 5, EvalRatio, EvalMaskSeed)
	if err != nil || len(ps.Images) != 5 || !strings.Contains(ps.Names[1], "crop") {
		t.Fatalf("photo eval set %v: %v", ps.Names, err)
	}
}

func fashionOptions(steps int) Options {
	return Options{Steps: steps, Batch: 8, BaseLR: 1.5e-3, Warmup: 2, Seed: 3, EvalEvery: 3, EvalImages: 16}
}

// An interrupted-and-resumed run equals the uninterrupted one bit for bit:
// losses, parameters, AdamW state and the reports.
func TestResumeIsExact(t *testing.T) {
	ds := loadFashion(t)
	cfg := fashionConfig(t)
	const steps = 7

	full := t.TempDir()
	tr, err := New(cpu.New(), cfg, ds, DirStore{full}, fashionOptions(steps))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	want := tr.Losses()

	dir := t.TempDir()
	tr, err = New(cpu.New(), cfg, ds, DirStore{dir}, fashionOptions(steps))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	saves := 0
	err = tr.Run(ctx, Hooks{
		OnStep: func(s StepInfo) {
			if s.Step == 4 {
				cancel() // Ctrl-C during step 4
			}
		},
		OnSave: func(int) { saves++ },
	})
	if !errors.Is(err, ErrInterrupted) || tr.Step() != 4 || saves != 1 {
		t.Fatalf("interrupt: step %d, %d saves, %v", tr.Step(), saves, err)
	}
	if _, err := New(cpu.New(), cfg, ds, DirStore{dir}, fashionOptions(steps)); err == nil {
		t.Fatal("a fresh run overwrote a checkpoint")
	}
	bad := fashionOptions(steps)
	bad.Batch = 4
	if _, err := Resume(cpu.New(), ds, DirStore{dir}, bad); err == nil {
		t.Fatal("resumed with another batch size")
	}
	tr, err = Resume(cpu.New(), ds, DirStore{dir}, fashionOptions(steps))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err != nil {
		t.Fatal(err)
	}
	if got := tr.Losses(); !equalF32(got, want) {
		t.Fatalf("resumed losses %v\nuninterrupted   %v", got, want)
	}
	for _, f := range []string{CheckpointFileName, model.ModelFileName, CSVFileName, SVGFileName} {
		a, _ := os.ReadFile(filepath.Join(full, f))
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", f)
		}
	}
	t.Logf("losses %v", want)
}

func TestOutputsAndNaN(t *testing.T) {
	ds := loadFashion(t)
	cfg := fashionConfig(t)
	dir := t.TempDir()
	opts := fashionOptions(3)
	tr, err := New(cpu.New(), cfg, ds, DirStore{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var evals []EvalPoint
	if err := tr.Run(context.Background(), Hooks{OnEval: func(e EvalPoint) { evals = append(evals, e) }}); err != nil {
		t.Fatal(err)
	}
	if len(evals) != 1 || evals[0].Step != 3 {
		t.Fatalf("evals %+v", evals)
	}
	// The eval metric is the recon package's on the same images.
	direct, err := tr.Evaluate()
	if err != nil || direct != evals[0].Metrics {
		t.Fatalf("re-evaluation %+v vs %+v (%v)", direct, evals[0].Metrics, err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, CSVFileName))
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 4 || lines[0] != "step,loss,lr,eval_mse,eval_psnr_db" || strings.Count(lines[3], ",") != 4 || strings.HasSuffix(lines[3], ",") {
		t.Fatalf("train.csv:\n%s", csv)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, SVGFileName))
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("loss.svg is not well-formed XML: %v", err)
			}
			break
		}
	}
	for _, f := range []string{model.ModelFileName, model.ConfigFileName, recon.PreprocessorFileName, QualityFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	gotCfg, params, _, err := model.LoadModel(dir)
	if err != nil || gotCfg != cfg || len(params) != tr.Net.(OfficialNet).Layout.Total {
		t.Fatalf("exported model: %v", err)
	}

	// A NaN loss stops the run; the checkpoint of step 3 stays.
	opts.Steps = 6
	tr, err = Resume(cpu.New(), ds, DirStore{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	params[tr.Net.(OfficialNet).Layout.Spans.PredB.Off] = float32(math.NaN())
	tr.Net.(OfficialNet).SetParams(params)
	err = tr.Run(context.Background(), Hooks{})
	if err == nil || !strings.Contains(err.Error(), "loss is NaN") || !strings.Contains(err.Error(), "step 3") {
		t.Fatalf("NaN run: %v", err)
	}
	tr, err = Resume(cpu.New(), ds, DirStore{dir}, opts)
	if err != nil || tr.Step() != 3 {
		t.Fatalf("after NaN: step %d, %v", tr.Step(), err)
	}
}

// Checkpoints follow the wall-clock interval; each one is a complete,
// resumable state.
func TestPeriodicCheckpoints(t *testing.T) {
	ds := loadFashion(t)
	dir := t.TempDir()
	tr, err := New(cpu.New(), fashionConfig(t), ds, DirStore{dir}, fashionOptions(3))
	if err != nil {
		t.Fatal(err)
	}
	var saved []int
	err = tr.Run(context.Background(), Hooks{CheckpointEvery: time.Nanosecond, OnSave: func(s int) {
		saved = append(saved, s)
		if info, found, err := ReadInfo(DirStore{dir}); err != nil || !found || info.Step != s {
			t.Errorf("checkpoint on disk at step %d, saved %d: %v", info.Step, s, err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(saved) != 3 || saved[0] != 1 || saved[2] != 3 {
		t.Fatalf("saves at %v", saved)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}
