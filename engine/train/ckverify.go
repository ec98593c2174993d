package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"webmae/engine/model"
	"webmae/engine/tutorial"
)

// Checkpoint formats: version 2 carries ckDigest; version 1 (without it)
// is still read, unverified.
const (
	checkpointFormat   = "webmae-train-checkpoint-2"
	checkpointFormatV1 = "webmae-train-checkpoint-1"
	ckDigest           = "sha256"
)

// checkpointDigest is the SHA-256 of every tensor (name, shape and values,
// by name) and every metadata entry but the digest itself (by key), hex.
func checkpointDigest(tensors map[string]model.HostTensor, meta map[string]string) string {
	h := sha256.New()
	var buf [8]byte
	putInt := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	putString := func(s string) {
		putInt(uint64(len(s)))
		h.Write([]byte(s))
	}
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := tensors[name]
		putString(name)
		putInt(uint64(len(t.Shape)))
		for _, d := range t.Shape {
			putInt(uint64(d))
		}
		data := make([]byte, 0, 8*max(len(t.F32), len(t.I64)))
		for _, v := range t.F32 {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
		for _, v := range t.I64 {
			data = binary.LittleEndian.AppendUint64(data, uint64(v))
		}
		putString(string(data))
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		if k != ckDigest {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		putString(k)
		putString(meta[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// savedCheckpoint is a verified checkpoint's content.
type savedCheckpoint struct {
	from            string // where it was read (see loadOne)
	tensors         map[string]model.HostTensor
	meta            map[string]string
	cfg             model.Config
	opts            Options
	step, adamSteps int
	rng             []byte
	params, m, v    []float32
	losses, lrs     []float32
	evals           []EvalPoint
	data, dataSplit string
	unverified      bool // format 1: no digest
}

// parseCheckpoint checks a checkpoint's digest and every field: the
// configuration and options, a step count that AdamW's agrees with, the
// random state, and tensors of the model's size (both AdamW moments once
// a step has been taken) with a loss and learning rate per step.
func parseCheckpoint(tensors map[string]model.HostTensor, meta map[string]string) (*savedCheckpoint, error) {
	ck := &savedCheckpoint{tensors: tensors, meta: meta, data: meta["data"], dataSplit: meta["data_split"]}
	switch meta["format"] {
	case checkpointFormat:
		if got, want := checkpointDigest(tensors, meta), meta[ckDigest]; got != want {
			return nil, fmt.Errorf("damaged: the SHA-256 of its contents begins %.16s, the one saved with it %.16q", got, want)
		}
	case checkpointFormatV1:
		ck.unverified = true
	default:
		return nil, fmt.Errorf("format %q is not %s", meta["format"], checkpointFormat)
	}
	var total int
	var err error
	switch meta["family"] {
	case FamilyOfficial, "":
		cfg, err := model.ParseConfig([]byte(meta["config"]))
		if err != nil {
			return nil, err
		}
		ck.cfg, total = cfg, model.NewLayout(cfg).Total
	case FamilyTutorial:
		tc, err := tutorial.ParseConfig([]byte(meta["config"]))
		if err != nil {
			return nil, err
		}
		ck.cfg, total = tc.Geometry(), tutorial.NewLayout(tc).Total
	default:
		return nil, fmt.Errorf("unknown model family %q", meta["family"])
	}
	if err := json.Unmarshal([]byte(meta["options"]), &ck.opts); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	if err := json.Unmarshal([]byte(meta["evals"]), &ck.evals); err != nil {
		return nil, fmt.Errorf("evals: %w", err)
	}
	step, err1 := strconv.Atoi(meta["step"])
	adamSteps, err2 := strconv.Atoi(meta["adamw_steps"])
	rng, err3 := hex.DecodeString(meta["rng"])
	if err1 != nil || err2 != nil || err3 != nil || step < 0 {
		return nil, errors.New("bad step, AdamW step or random state")
	}
	if adamSteps != step {
		return nil, fmt.Errorf("step %d but %d AdamW steps: one AdamW step is taken per training step", step, adamSteps)
	}
	ck.step, ck.adamSteps, ck.rng = step, adamSteps, rng
	get := func(name string, n int) ([]float32, error) {
		t, ok := tensors[name]
		if !ok || t.IsInt() || len(t.F32) != n {
			return nil, fmt.Errorf("tensor %s missing or not %d floats", name, n)
		}
		return t.F32, nil
	}
	if ck.params, err = get(ckParams, total); err != nil {
		return nil, err
	}
	if bad := firstNonFinite(ck.params); bad >= 0 {
		return nil, fmt.Errorf("parameter %d is %v", bad, ck.params[bad])
	}
	if step > 0 {
		if ck.m, err = get(ckM, total); err != nil {
			return nil, fmt.Errorf("AdamW moments required after %d steps: %w", step, err)
		}
		if ck.v, err = get(ckV, total); err != nil {
			return nil, fmt.Errorf("AdamW moments required after %d steps: %w", step, err)
		}
	}
	if ck.losses, err = get(ckLoss, step); err != nil {
		return nil, err
	}
	if ck.lrs, err = get(ckLR, step); err != nil {
		return nil, err
	}
	return ck, nil
}

// firstNonFinite returns the index of the first NaN or infinite value of
// v, or -1.
func firstNonFinite(v []float32) int {
	for i, x := range v {
		if x-x != 0 {
			return i
		}
	}
	return -1
}
