package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// memorySet is the page's kind of data: every image of testdata/images
// in memory (shrunk to MemorySide), no held-out set.
func memorySet(t *testing.T) *Dataset {
	t.Helper()
	paths, err := ImagePaths(imagesDir)
	if err != nil {
		t.Fatal(err)
	}
	src := MemorySource{Name: "images in memory", Norm: recon.ImageNet()}
	for _, p := range paths {
		px, err := DecodeFile(p, 3)
		if err != nil {
			t.Fatal(err)
		}
		src.Images, src.Names = append(src.Images, px), append(src.Names, filepath.Base(p))
	}
	ds, err := src.Load(3)
	if err != nil {
		t.Fatal(err)
	}
	if !ds.Embedded || len(ds.Held) != 0 || max(ds.Train[0].W, ds.Train[0].H) > MemorySide {
		t.Fatalf("memory data set: embedded %v, %d held, first %dx%d", ds.Embedded, len(ds.Held), ds.Train[0].W, ds.Train[0].H)
	}
	return ds
}

func memoryOptions() Options {
	return Options{Steps: 6, Batch: 4, BaseLR: 0.05, Warmup: 2, Seed: 9}
}

// runTo trains tr until step stop (or the end), then interrupts it.
func runTo(t *testing.T, tr *Trainer, stop int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := tr.Run(ctx, Hooks{OnStep: func(s StepInfo) {
		if s.Step == stop {
			cancel()
		}
	}})
	if stop < tr.Opts.Steps && !errors.Is(err, ErrInterrupted) || stop >= tr.Opts.Steps && err != nil || tr.Step() != min(stop, tr.Opts.Steps) {
		t.Fatalf("run to step %d: at %d, %v", stop, tr.Step(), err)
	}
}

func checkpointBytes(t *testing.T, s Store) []byte {
	t.Helper()
	data, found, err := s.Load()
	if err != nil || !found {
		t.Fatalf("checkpoint in %s: found %v, %v", s, found, err)
	}
	return data
}

// A run on images in memory (the page's) saved through one store resumes
// through the other, without its images, exactly as if never interrupted:
// the same losses and the same final checkpoint, byte for byte.
func TestMemoryRunResumesAcrossStores(t *testing.T) {
	ds := memorySet(t)
	cfg, _ := model.Preset(model.PresetMicro)
	whole := &MemStore{}
	tr, err := New(cpu.New(), cfg, ds, whole, memoryOptions())
	if err != nil {
		t.Fatal(err)
	}
	runTo(t, tr, 6)
	want := checkpointBytes(t, whole)
	if tr.Eval != nil {
		t.Fatal("a run without held-out images has an eval set")
	}

	for _, c := range []struct {
		name     string
		from, to Store
	}{
		{"memory to files", &MemStore{}, DirStore{t.TempDir()}},
		{"files to memory", DirStore{t.TempDir()}, &MemStore{}},
	} {
		tr, err := New(cpu.New(), cfg, ds, c.from, memoryOptions())
		if err != nil {
			t.Fatal(err)
		}
		runTo(t, tr, 3)
		if err := c.to.Save(checkpointBytes(t, c.from)); err != nil {
			t.Fatal(err)
		}
		info, found, err := ReadInfo(c.to)
		if err != nil || !found || info.Step != 3 || !info.Embedded || info.Config != cfg || len(info.Losses) != 3 {
			t.Fatalf("%s: info %+v, %v", c.name, info, err)
		}
		resumed, err := Resume(cpu.New(), nil, c.to, memoryOptions())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		runTo(t, resumed, 6)
		if !equalF32(resumed.Losses(), savedLosses(t, whole)) {
			t.Fatalf("%s: losses %v", c.name, resumed.Losses())
		}
		if got := checkpointBytes(t, c.to); !bytes.Equal(got, want) {
			t.Fatalf("%s: the final checkpoint differs from the uninterrupted run's", c.name)
		}
	}
}

func savedLosses(t *testing.T, s Store) []float32 {
	t.Helper()
	info, _, err := ReadInfo(s)
	if err != nil {
		t.Fatal(err)
	}
	return info.Losses
}

// A command-line run (data on disk, not embedded) resumes from another
// store given the same data, and refuses to resume without it.
func TestFileRunResumesInMemory(t *testing.T) {
	ds := loadFashion(t)
	cfg := fashionConfig(t)
	dir := DirStore{t.TempDir()}
	tr, err := New(cpu.New(), cfg, ds, dir, fashionOptions(4))
	if err != nil {
		t.Fatal(err)
	}
	runTo(t, tr, 2)
	mem := &MemStore{}
	if err := mem.Save(checkpointBytes(t, dir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(cpu.New(), nil, mem, fashionOptions(4)); err == nil || !strings.Contains(err.Error(), "give the data set") {
		t.Fatalf("resumed without its data: %v", err)
	}
	a, err := Resume(cpu.New(), ds, mem, fashionOptions(4))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Resume(cpu.New(), ds, dir, fashionOptions(4))
	if err != nil {
		t.Fatal(err)
	}
	runTo(t, a, 4)
	runTo(t, b, 4)
	if !equalF32(a.Losses(), b.Losses()) || !bytes.Equal(checkpointBytes(t, mem), checkpointBytes(t, dir)) {
		t.Fatal("the run resumed in memory differs from the one resumed from files")
	}
}

// The page's cadence: NewFrom fine-tunes a model with a fresh optimizer,
// SaveEvery checkpoints by step count, Lock is held around the work, and
// a failed step stops the trainer for good.
func TestNewFromSaveEveryLockAndFailure(t *testing.T) {
	ds := memorySet(t)
	cfg, _ := model.Preset(model.PresetMicro)
	m, err := mae.NewInit(cpu.New(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetOptimizer(mae.OptimizerState{Steps: 5}); err != nil {
		t.Fatal(err)
	}
	store := &MemStore{}
	tr, err := NewFrom(OfficialNet{m}, ds, store, memoryOptions())
	if err != nil || m.Steps() != 0 {
		t.Fatalf("NewFrom: AdamW at step %d, %v", m.Steps(), err)
	}
	var mu countingLock
	var saves []int
	if err := tr.Run(context.Background(), Hooks{SaveEvery: 2, Lock: &mu, OnSave: func(s int) { saves = append(saves, s) }}); err != nil {
		t.Fatal(err)
	}
	if len(saves) != 3 || saves[0] != 2 || saves[1] != 4 || saves[2] != 6 || mu.n < 6+3 {
		t.Fatalf("saves at %v, lock taken %d times", saves, mu.n)
	}
	if _, err := NewFrom(OfficialNet{m}, ds, store, memoryOptions()); err == nil {
		t.Fatal("a new run replaced a saved one")
	}

	// A NaN parameter: the step fails, nothing is saved, Run refuses to go on.
	opts := memoryOptions()
	opts.Steps = 8
	tr, err = Resume(cpu.New(), nil, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	params, _ := tr.Net.(OfficialNet).ReadParams()
	params[tr.Net.(OfficialNet).Layout.Spans.PredB.Off] = float32(math.NaN())
	tr.Net.(OfficialNet).SetParams(params)
	before := checkpointBytes(t, store)
	err = tr.Run(context.Background(), Hooks{SaveEvery: 1})
	if err == nil || !strings.Contains(err.Error(), "loss is NaN") || !bytes.Equal(checkpointBytes(t, store), before) {
		t.Fatalf("NaN run: %v", err)
	}
	if err := tr.Run(context.Background(), Hooks{}); err == nil || !strings.Contains(err.Error(), "failed step") {
		t.Fatalf("ran again after a failed step: %v", err)
	}
}

type countingLock struct {
	sync.Mutex
	n int
}

func (l *countingLock) Lock() { l.Mutex.Lock(); l.n++ }
