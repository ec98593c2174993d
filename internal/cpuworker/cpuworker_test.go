package cpuworker

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"webmae/engine/bench"
	"webmae/engine/cpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/internal/workermsg"
)

// call sends one request through the encoded path, as the worker does.
func call(t *testing.T, e *Engine, m workermsg.Message) workermsg.Message {
	t.Helper()
	reply, err := workermsg.Decode(e.Handle(m.Encode()))
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if reply.ID != m.ID {
		t.Fatalf("reply id %d, request %d", reply.ID, m.ID)
	}
	return reply
}

func loadMicro(t *testing.T, e *Engine, key uint32) (model.Config, []float32, recon.Norm) {
	t.Helper()
	cfg, err := model.Preset(model.PresetMicro)
	if err != nil {
		t.Fatal(err)
	}
	params := make([]float32, model.NewLayout(cfg).Total)
	model.Init(cfg, model.NewLayout(cfg), params, 9)
	cfgJSON, err := cfg.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	norm := recon.ImageNet()
	norm.Mean, norm.Std = norm.Mean[:cfg.NumChannels], norm.Std[:cfg.NumChannels]
	r := call(t, e, workermsg.Message{ID: 1, Op: workermsg.OpLoad, Model: key, Text: cfgJSON, Floats: params,
		Norm: append(append([]float32(nil), norm.Mean...), norm.Std...)})
	if r.Op != workermsg.OpDone {
		t.Fatalf("load: %s", r.Text)
	}
	return cfg, params, norm
}

// TestReconstructMatchesInProcess: the worker's prediction is the one the
// page's own CPU backend computes, bit for bit (the same code on the same
// inputs).
func TestReconstructMatchesInProcess(t *testing.T) {
	e := New()
	cfg, params, norm := loadMicro(t, e, 5)
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	l := cfg.NumPatches()
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, 1, l), 1, l, cfg.NumKeep(0.6))
	if err != nil {
		t.Fatal(err)
	}
	order, err := workermsg.OrderOf(mk)
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, e, workermsg.Message{ID: 2, Op: workermsg.OpReconstruct, Model: 5, Floats: img, Keep: uint32(mk.K), Order: order})
	if r.Op != workermsg.OpDone {
		t.Fatalf("reconstruct: %s", r.Text)
	}

	m, err := mae.New(cpu.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetParams(params); err != nil {
		t.Fatal(err)
	}
	rec, err := recon.NewReconstructor(m, norm)
	if err != nil {
		t.Fatal(err)
	}
	want, err := rec.Reconstruct(img, mk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := recon.FromPrediction(cfg, norm, img, recon.Masked(mk, 0), r.Floats)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("worker result differs from the in-process one (MSE %g vs %g)", got.MSE, want.MSE)
	}
}

func TestErrors(t *testing.T) {
	e := New()
	errOf := func(m workermsg.Message) string {
		r := call(t, e, m)
		if r.Op != workermsg.OpError {
			t.Fatalf("op %d: succeeded", m.Op)
		}
		return string(r.Text)
	}
	recon := workermsg.Message{ID: 3, Op: workermsg.OpReconstruct, Model: 5, Keep: 1, Order: []int32{0, 1}}
	for name, c := range map[string]struct {
		got, want string
	}{
		"no model":   {errOf(recon), "model 5 is not loaded"},
		"bad config": {errOf(workermsg.Message{ID: 4, Op: workermsg.OpLoad, Model: 1, Text: []byte("{")}), "load: parse config"},
		"key 0":      {errOf(workermsg.Message{ID: 4, Op: workermsg.OpLoad}), "key 0 is reserved"},
		"reply op":   {errOf(workermsg.Message{ID: 6, Op: workermsg.OpDone}), "is a reply"},
		"bench reps": {errOf(workermsg.Message{ID: 7, Op: workermsg.OpBench, Text: []byte(`{"config":{"image_size":32,"patch_size":4,"hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"decoder_hidden_size":32,"decoder_num_hidden_layers":1,"decoder_num_attention_heads":2,"decoder_intermediate_size":64},"min_reps":0}`)}), "want 1 to 1000 repetitions"},
	} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("%s: error %q, want %q", name, c.got, c.want)
		}
	}
	// Bytes that are not a message get an error reply too.
	if r, err := workermsg.Decode(e.Handle([]byte("junk"))); err != nil || r.Op != workermsg.OpError {
		t.Errorf("junk: reply %+v, %v", r, err)
	}

	loadMicro(t, e, 5)
	cfg, _ := model.Preset(model.PresetMicro)
	img := make([]float32, cfg.NumChannels*cfg.ImageSize*cfg.ImageSize)
	order := make([]int32, cfg.NumPatches())
	for i := range order {
		order[i] = int32(i)
	}
	order[1] = 0
	recon = workermsg.Message{ID: 8, Op: workermsg.OpReconstruct, Model: 5, Keep: 3, Floats: img, Order: order}
	if got := errOf(recon); !strings.Contains(got, "not a permutation") {
		t.Errorf("repeated patch: %q", got)
	}
	recon.Floats = img[1:]
	if got := errOf(recon); !strings.Contains(got, "the image has") {
		t.Errorf("short image: %q", got)
	}
	bad := workermsg.Message{ID: 9, Op: workermsg.OpLoad, Model: 6, Text: mustHF(t, cfg), Floats: []float32{1}}
	if got := errOf(bad); !strings.Contains(got, "parameters sent") {
		t.Errorf("short params: %q", got)
	}
}

func mustHF(t *testing.T, cfg model.Config) []byte {
	b, err := cfg.MarshalHF()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBench(t *testing.T) {
	cfg, _ := model.Preset(model.PresetMicro)
	args, err := json.Marshal(workermsg.BenchArgs{Config: mustHF(t, cfg), Preset: "micro", MinReps: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, New(), workermsg.Message{ID: 10, Op: workermsg.OpBench, Text: args})
	if r.Op != workermsg.OpDone {
		t.Fatalf("bench: %s", r.Text)
	}
	var res bench.Result
	if err := json.Unmarshal(r.Text, &res); err != nil {
		t.Fatal(err)
	}
	if res.Name != "reconstruct" || res.Shape != "micro b=1" || res.Reps < 2 || res.Value <= 0 {
		t.Errorf("result %+v", res)
	}
}
