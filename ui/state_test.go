package ui

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// Model files round-trip through the download format, and bad files are
// refused with a message naming the problem.
func TestModelFiles(t *testing.T) {
	k := cpu.New()
	lm, err := freshModel(k, model.PresetMicro, 4)
	if err != nil {
		t.Fatal(err)
	}
	weights, cfg, err := modelFiles(lm)
	if err != nil {
		t.Fatal(err)
	}
	files := []namedBytes{{"model.safetensors", weights}, {"config.json", cfg}}
	back, err := modelFromFiles(k, files, model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := lm.Model.ReadParams()
	b, _ := back.Model.ReadParams()
	if !bytes.Equal(f32bytes(a), f32bytes(b)) || back.Config != lm.Config {
		t.Fatal("download/upload changed the model")
	}
	if back.Source != "model.safetensors (Hugging Face names)" {
		t.Errorf("source %q", back.Source)
	}
	// without config.json the current configuration is used
	if _, err := modelFromFiles(k, files[:1], lm.Config); err != nil {
		t.Errorf("weights alone with the matching configuration: %v", err)
	}
	tiny, _ := model.Preset(model.PresetTiny)
	for _, c := range []struct {
		files []namedBytes
		want  string
	}{
		{files[:1], "choose its config.json too"},
		{files[1:], "choose a weights file (.safetensors, .pth, .pt or .bin"},
		{[]namedBytes{{"notes.txt", []byte("x")}}, "notes.txt is neither"},
		{[]namedBytes{{"model.safetensors", []byte("garbage")}, files[1]}, "model.safetensors with config.json"},
		{[]namedBytes{files[0], {"config.json", []byte("{")}}, "parse config"},
		{append(files, namedBytes{"other.safetensors", weights}), "choose one weights file"},
		{[]namedBytes{{"enc.pth", readTestdata(t, "pth/mae_tiny.encoder.pth")}, {"config.json", readTestdata(t, "reference/mae_tiny.config.json")}}, "mae_visualize_vit_base.pth"},
	} {
		_, err := modelFromFiles(k, c.files, tiny)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("files %v: error %v, want it to mention %q", names(c.files), err, c.want)
		}
	}
}

func names(files []namedBytes) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func f32bytes(v []float32) []byte {
	out := make([]byte, 0, 4*len(v))
	for _, x := range v {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
	}
	return out
}

// A reconstruction job draws the four panels of the model's image size.
func TestReconJob(t *testing.T) {
	lm, err := freshModel(cpu.New(), model.PresetMicro, 1)
	if err != nil {
		t.Fatal(err)
	}
	pix := recon.Pixels{W: 40, H: 30, C: 3, Pix: make([]uint8, 40*30*3)}
	for i := range pix.Pix {
		pix.Pix[i] = uint8(i * 7)
	}
	out, err := reconJob{lm: lm, pix: pix, mask: maskState{Ratio: 0.5, Seed: 2}}.run()
	if err != nil {
		t.Fatal(err)
	}
	if out.res.NumMasked() != 8 || out.note != "center-cropped 40x30 to 30x30, resized to 32x32" {
		t.Errorf("masked %d, note %q", out.res.NumMasked(), out.note)
	}
	for i, p := range out.panels {
		if len(p) != 4*32*32 {
			t.Errorf("panel %d has %d bytes", i, len(p))
		}
	}
}

// The queue keeps only the newest waiting job of each kind.
func TestReconQueue(t *testing.T) {
	var q reconQueue
	if !q.put(reconJob{mask: maskState{Seed: 1}}) {
		t.Fatal("first job did not start a worker")
	}
	if q.put(reconJob{mask: maskState{Seed: 2}}) || q.put(reconJob{mask: maskState{Seed: 3}}) || q.put(reconJob{preview: true}) {
		t.Fatal("a second worker was started")
	}
	var got []uint64
	var previews int
	for {
		j, ok := q.take()
		if !ok {
			break
		}
		if j.preview {
			previews++
		} else {
			got = append(got, j.mask.Seed)
		}
	}
	if len(got) != 1 || got[0] != 3 || previews != 1 {
		t.Errorf("ran main jobs %v and %d previews; want [3] and 1", got, previews)
	}
	if !q.put(reconJob{}) {
		t.Error("no worker started after the queue drained")
	}
}
