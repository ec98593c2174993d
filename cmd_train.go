package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"webmae/engine/backend"
	"webmae/engine/fileio"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
)

func init() {
	commands["train"] = command{
		summary: "pretrain an MAE on an image directory or Fashion-MNIST, with checkpoints and exact --resume",
		run:     runTrain,
	}
}

// trainFlags are the options of `webmae train`; set holds the names of
// the flags given explicitly.
type trainFlags struct {
	preset, data, out, backend, holdout, config, init string
	resume, normPix                                   bool
	imageSize, patchSize, channels, stopAfter         int
	every                                             time.Duration
	opts                                              train.Options
	set                                               map[string]bool
}

func parseTrainFlags(args []string) (trainFlags, error) {
	var f trainFlags
	o := &f.opts
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.StringVar(&f.preset, "preset", model.PresetTiny, "model preset: "+strings.Join(model.PresetNames, ", "))
	fs.StringVar(&f.data, "data", "", "training data: a directory of png/jpeg images, or fashion-mnist:PATH (a directory with the IDX files); on --resume of a run that holds its images (one trained in the page), may be omitted")
	fs.StringVar(&f.out, "out", "", "output directory (checkpoint, model.safetensors + config.json, train.csv, loss.svg, quality.json)")
	fs.IntVar(&o.Steps, "steps", 1000, "total training steps")
	fs.IntVar(&o.Batch, "batch", 32, "images per step")
	fs.Float64Var(&o.BaseLR, "base-lr", 1.5e-4, "base learning rate; the peak is base-lr * batch / 256")
	fs.IntVar(&o.Warmup, "warmup", 100, "linear warmup steps")
	fs.BoolVar(&f.resume, "resume", false, "continue the run saved in --out exactly (either family: the checkpoint says which)")
	fs.StringVar(&f.backend, "backend", "auto", "compute backend: auto, cpu or gpu")
	fs.IntVar(&o.EvalEvery, "eval-every", 100, "evaluate on the held-out set every K steps (0: only at the end)")
	fs.IntVar(&o.EvalImages, "eval-images", train.DefaultEvalImages, "held-out images (crops, for photos) in the eval set")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the initialisation, crops, flips and masks")
	fs.IntVar(&f.imageSize, "image-size", 0, "override the preset's image size")
	fs.IntVar(&f.patchSize, "patch-size", 0, "override the preset's patch size")
	fs.IntVar(&f.channels, "channels", 0, "image channels, 1 or 3 (default: 1 for Fashion-MNIST, else the preset's 3)")
	fs.BoolVar(&f.normPix, "norm-pix", false, "train with norm_pix_loss (per-patch normalised targets)")
	fs.Float64Var(&o.MaskRatio, "mask-ratio", 0, "training masking ratio (default: the config's, 0.75)")
	fs.StringVar(&f.holdout, "holdout", "", "comma-separated image names to hold out (default: a fixed quarter of the images chosen by name hash)")
	fs.BoolVar(&o.F16, "f16", false, "store model.safetensors in half precision")
	fs.IntVar(&f.stopAfter, "stop-after", 0, "stop once this many steps are done, saving the checkpoint as an interruption does (0: run to --steps); a run continued with --resume and other --steps changes its schedule there")
	fs.DurationVar(&f.every, "checkpoint-every", train.DefaultCheckpointEvery, "wall time between checkpoints")
	fs.StringVar(&f.config, "config", "", "a vit-pytorch-mae config.json: train the tutorial's model family instead of a preset")
	fs.StringVar(&f.init, "init", "", "with --config: start from these weights (the tutorial's keys) instead of a fresh initialisation")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (f.data == "" && !f.resume) || f.out == "" {
		return f, errors.New("--data and --out are required")
	}
	if f.stopAfter < 0 {
		return f, fmt.Errorf("--stop-after %d is negative", f.stopAfter)
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, nil
}

func runTrain(args []string) error {
	f, err := parseTrainFlags(args)
	if err != nil {
		return err
	}
	// Ctrl-C, SIGTERM and SIGHUP (a closed terminal) save a checkpoint
	// after the current step; a signal during the setup stops the run at
	// its first step, saving at once.
	ctx, stop := signal.NotifyContext(context.Background(), trainSignals...)
	defer stop()
	if f.config != "" || f.init != "" {
		return trainWithConfig(ctx, f)
	}
	return trainPresetOrResume(ctx, f)
}

// trainPresetOrResume is `webmae train` without --config: a fresh run of
// the official family from --preset and the size flags, or --resume of a
// run of either family.
func trainPresetOrResume(ctx context.Context, f trainFlags) error {
	store := train.DirStore{Dir: f.out}
	opts := f.opts
	cfg, family, err := trainModelConfig(f, store, &opts)
	if err != nil {
		return err
	}
	// mae.EstimateMemory models the official family's pass only; the
	// tutorial's family has no estimate, so its runs are not checked.
	if family == train.FamilyOfficial {
		if err := train.CheckMemory(cfg, opts); err != nil {
			return fmt.Errorf("%w: lower --batch, --image-size or --eval-images, or raise --patch-size", err)
		}
	}
	if err := checkTrainRun(f, opts); err != nil {
		return err
	}
	ds, err := loadTrainData(f, cfg.NumChannels)
	if err != nil {
		return err
	}
	return trainOn(ctx, f, func(k backend.Kernels) (*train.Trainer, error) {
		if f.resume {
			return train.Resume(k, ds, store, opts)
		}
		return train.New(k, cfg, ds, store, opts)
	})
}

// trainModelConfig is the model a run without --config trains and its
// family: on --resume the saved run's (whose options fill those not given
// explicitly: resumeOptions), else --preset with the size flags.
func trainModelConfig(f trainFlags, store train.DirStore, opts *train.Options) (model.Config, string, error) {
	if f.resume {
		cfg, family, err := resumeOptions(store, f.data != "", f.set, opts)
		if err != nil {
			return model.Config{}, "", fmt.Errorf("--resume: %w", err)
		}
		return cfg, family, nil
	}
	cfg, err := model.Preset(f.preset)
	if err != nil {
		return model.Config{}, "", err
	}
	if f.imageSize > 0 {
		cfg.ImageSize = f.imageSize
	}
	if f.patchSize > 0 {
		cfg.PatchSize = f.patchSize
	}
	switch {
	case f.channels > 0:
		cfg.NumChannels = f.channels
	case strings.HasPrefix(f.data, train.FashionMNISTPrefix):
		cfg.NumChannels = 1
	}
	cfg.NormPixLoss = f.normPix
	if err := cfg.Validate(); err != nil {
		return model.Config{}, "", fmt.Errorf("model configuration: %w", err)
	}
	return cfg, train.FamilyOfficial, nil
}

// checkTrainRun validates what every run, of either family, shares, once
// its family's own flags have been checked: a finite learning rate > 0 in
// opts, an --out that is not the --data directory and, for a fresh run,
// holds no previous checkpoint. It then removes the temporary files an
// interrupted write left in --out.
func checkTrainRun(f trainFlags, opts train.Options) error {
	if !(opts.BaseLR > 0) || math.IsInf(opts.BaseLR, 0) {
		return fmt.Errorf("--base-lr %g: want a finite learning rate > 0", opts.BaseLR)
	}
	if dataPath := strings.TrimPrefix(f.data, train.FashionMNISTPrefix); dataPath != "" { // "": --resume from the images the checkpoint embeds
		if same, err := fileio.SamePath(f.out, dataPath); err != nil {
			return err
		} else if same {
			return fmt.Errorf("--out %s is the --data directory: choose a separate output directory", f.out)
		}
	}
	if _, err := os.Stat(filepath.Join(f.out, train.PrevCheckpointFileName)); err == nil && !f.resume {
		return fmt.Errorf("%s holds a previous checkpoint (%s); resume it with --resume or choose another output directory", f.out, train.PrevCheckpointFileName)
	}
	removed, err := fileio.RemoveStaleTemps(f.out)
	if err != nil {
		return err
	}
	if len(removed) > 0 {
		fmt.Fprintf(os.Stderr, "removed %d temporary file(s) left by an interrupted write in %s: %s\n", len(removed), f.out, shortList(removed))
	}
	return nil
}

// loadTrainData reads --data, holding out --holdout, as images of the
// given channels; nil without --data (a resumed run that holds its
// images).
func loadTrainData(f trainFlags, channels int) (*train.Dataset, error) {
	if f.data == "" {
		return nil, nil
	}
	var held []string
	if f.holdout != "" {
		held = strings.Split(f.holdout, ",")
	}
	src, err := train.ParseSource(f.data, held)
	if err != nil {
		return nil, err
	}
	return src.Load(channels)
}

// trainOn opens --backend, starts the run on it with start and trains it
// (trainAndReport).
func trainOn(ctx context.Context, f trainFlags, start func(k backend.Kernels) (*train.Trainer, error)) error {
	k, err := openBackend(f.backend)
	if err != nil {
		return err
	}
	defer k.Release()
	tr, err := start(k)
	if err != nil {
		return err
	}
	if f.stopAfter > 0 && tr.Step() >= f.stopAfter {
		fmt.Fprintf(os.Stderr, "webmae train: the run in %s is at step %d, at or past --stop-after %d: nothing to do\n", f.out, tr.Step(), f.stopAfter)
		return nil
	}
	return trainAndReport(ctx, tr, k.Name(), f)
}

// trainAndReport describes the run, trains it until done or ctx is
// cancelled (see trainSignals: the checkpoint is saved) and reports the
// quality.
func trainAndReport(ctx context.Context, tr *train.Trainer, backendName string, f trainFlags) error {
	ds, out := tr.Data, f.out
	fmt.Fprintf(os.Stderr, "webmae train: %s on %s\n", describeNet(tr.Net), backendName)
	fmt.Fprintf(os.Stderr, "  model: %s\n", tr.Net)
	fmt.Fprintf(os.Stderr, "  data: %s: %d training images, %d held out %s; normalisation mean %v std %v\n",
		ds.Source, len(ds.Train), len(ds.Held), shortList(ds.HeldNames), ds.Norm.Mean, ds.Norm.Std)
	fmt.Fprintf(os.Stderr, "  recipe: %d steps, batch %d, base lr %g (peak %g), warmup %d, mask ratio %g, seed %d\n",
		tr.Opts.Steps, tr.Opts.Batch, tr.Opts.BaseLR, tr.Opts.BaseLR*float64(tr.Opts.Batch)/256, tr.Opts.Warmup, tr.Opts.MaskRatio, tr.Opts.Seed)

	if err := tr.ComputeBaselines(); err != nil {
		return err
	}
	if tr.Eval != nil {
		fmt.Fprintln(os.Stderr, baselineLine(tr))
	}
	prog := newTrainProgress(os.Stderr, tr.Step(), tr.Opts.Steps)
	ctx, stopNow := context.WithCancel(ctx)
	defer stopNow()
	stopped := false
	hooks := train.Hooks{
		CheckpointEvery: f.every,
		OnStep: func(s train.StepInfo) {
			prog.step(s)
			if f.stopAfter > 0 && s.Step >= f.stopAfter && s.Step < s.Steps {
				stopped = true
				stopNow()
			}
		},
		OnEval: func(e train.EvalPoint) {
			prog.println(fmt.Sprintf("eval step %d: held-out masked-patch MSE %.4f, PSNR %.2f dB (%d images, ratio %g)",
				e.Step, e.MSE, e.PSNR, e.Images, train.EvalRatio))
		},
	}
	err := tr.Run(ctx, hooks)
	prog.finish()
	if stopped && errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(os.Stderr, "webmae train: stopped after step %d (--stop-after); checkpoint saved in %s (continue with --resume)\n", tr.Step(), out)
		return nil
	}
	if errors.Is(err, train.ErrInterrupted) {
		return fmt.Errorf("%w (continue with the same command and --resume)", err)
	}
	if err != nil {
		return err
	}
	if tr.Eval == nil {
		fmt.Fprintf(os.Stderr, "done: %d steps (no held-out images to evaluate on); outputs in %s\n", tr.Step(), out)
		return nil
	}
	q, err := tr.QualityReport()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done: %d steps; held-out MSE %.4f (PSNR %.2f dB) vs mean-fill %.4f, IDW %.4f; outputs in %s\n",
		q.Step, q.Model.MSE, q.Model.PSNR, q.Baselines[recon.BaselineMean].MSE, q.Baselines[recon.BaselineIDW].MSE, out)
	return nil
}

// resumeOptions reads the run saved in store: the saved run fixes the
// model and the hyper-parameters; flags given explicitly (set) must agree
// (train.Resume checks), the others follow it. It returns the saved
// model's geometry and its family.
func resumeOptions(store train.DirStore, haveData bool, set map[string]bool, opts *train.Options) (model.Config, string, error) {
	info, found, err := train.ReadInfo(store)
	if err == nil && !found {
		err = fmt.Errorf("%s holds no checkpoint", store.Dir)
	}
	if err == nil && !haveData && !info.Embedded {
		err = fmt.Errorf("the run in %s trains on %s: give it with --data", store.Dir, info.Data)
	}
	if err != nil {
		return model.Config{}, "", err
	}
	if info.Skipped != nil {
		fmt.Fprintf(os.Stderr, "warning: the newest checkpoint is not usable (%v); resuming from the previous one, %s, at step %d\n", info.Skipped, info.From, info.Step)
	}
	if info.Unverified {
		fmt.Fprintf(os.Stderr, "note: the checkpoint in %s has no SHA-256 (written by an older webmae): its contents cannot be verified\n", info.From)
	}
	for _, name := range []string{"preset", "image-size", "patch-size", "channels", "norm-pix"} {
		if set[name] {
			fmt.Fprintf(os.Stderr, "note: --%s is ignored on --resume (the model comes from the checkpoint)\n", name)
		}
	}
	saved := info.Options
	if !set["steps"] {
		opts.Steps = saved.Steps
	}
	if !set["batch"] {
		opts.Batch = saved.Batch
	}
	if !set["base-lr"] {
		opts.BaseLR = saved.BaseLR
	}
	if !set["warmup"] {
		opts.Warmup = saved.Warmup
	}
	if !set["seed"] {
		opts.Seed = saved.Seed
	}
	if !set["mask-ratio"] {
		opts.MaskRatio = saved.MaskRatio
	}
	if !set["eval-every"] {
		opts.EvalEvery = saved.EvalEvery
	}
	if !set["eval-images"] {
		opts.EvalImages = saved.EvalImages
	}
	if !set["f16"] {
		opts.F16 = saved.F16
	}
	fmt.Fprintf(os.Stderr, "resuming %s at step %d of %d\n", store.Dir, info.Step, opts.Steps)
	return info.Config, info.Family, nil
}

func baselineLine(tr *train.Trainer) string {
	var parts []string
	for _, name := range []string{recon.BaselineMean, recon.BaselineIDW} {
		if m, ok := tr.Baselines[name]; ok {
			parts = append(parts, fmt.Sprintf("%s MSE %.4f, PSNR %.2f dB", name, m.MSE, m.PSNR))
		}
	}
	return fmt.Sprintf("baselines on the eval set (%d images): %s", len(tr.Eval.Images), strings.Join(parts, "; "))
}

func describeNet(n train.Net) string {
	if t, ok := n.(train.TutorialNet); ok {
		c := t.Config
		return fmt.Sprintf("the tutorial's MAE (%s): %d px, patch %d, %d channel(s), encoder %dx%d (%d heads), decoder %dx%d",
			c.Architecture, c.ImageSize, c.PatchSize, c.Channels, c.Dim, c.Depth, c.Heads, c.DecoderDim, c.DecoderDepth)
	}
	return describeConfig(n.Geometry())
}

func describeConfig(c model.Config) string {
	return fmt.Sprintf("%d px, patch %d, %d channel(s), encoder %dx%d (%d heads), decoder %dx%d, norm_pix_loss %v",
		c.ImageSize, c.PatchSize, c.NumChannels, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads,
		c.DecoderHiddenSize, c.DecoderNumHiddenLayers, c.NormPixLoss)
}

func shortList(names []string) string {
	if len(names) > 6 {
		return fmt.Sprintf("(%s, ... %d more)", strings.Join(names[:3], ", "), len(names)-3)
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// trainProgress shows a progress bar on a terminal (step, loss, images/s,
// ETA) and plain log lines every 10 seconds otherwise.
type trainProgress struct {
	w            io.Writer
	bar          *progressbar.ProgressBar
	first, total int
	lastLine     time.Time
}

func newTrainProgress(w *os.File, first, total int) *trainProgress {
	p := &trainProgress{w: w, first: first, total: total, lastLine: time.Now()}
	if term.IsTerminal(int(w.Fd())) {
		p.bar = progressbar.NewOptions(total-first,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("step %d/%d", first, total)),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	return p
}

func (p *trainProgress) step(s train.StepInfo) {
	desc := fmt.Sprintf("step %d/%d  loss %.4f  lr %.2e  %.1f img/s", s.Step, s.Steps, s.Loss, s.LR, s.ImagesPerSec)
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set(s.Step - p.first)
		return
	}
	if time.Since(p.lastLine) >= 10*time.Second || s.Step == s.Steps {
		p.lastLine = time.Now()
		eta := time.Duration(float64(s.Elapsed) / float64(s.Step-p.first) * float64(s.Steps-s.Step))
		fmt.Fprintf(p.w, "%s  elapsed %s  ETA %s\n", desc, s.Elapsed.Round(time.Second), eta.Round(time.Second))
	}
}

func (p *trainProgress) println(line string) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(p.w, line)
}

func (p *trainProgress) finish() {
	if p.bar != nil {
		p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
