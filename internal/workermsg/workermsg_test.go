package workermsg

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"webmae/engine/model"
)

func sample() Message {
	return Message{ID: 7, Op: OpReconstruct, Model: 3, Keep: 2, Text: []byte(`{"a":1}`),
		Floats: []float32{1.5, -2, float32(math.Inf(1)), 0}, Norm: []float32{0.5, 0.25}, Order: []int32{2, 0, 3, 1}}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range []Message{sample(), {ID: math.MaxUint32, Op: OpError, Text: []byte("model 3 is not loaded.")}, {Op: OpDone}} {
		b := m.Encode()
		if len(b) != m.Size() {
			t.Errorf("op %d: encoded %d bytes, Size says %d", m.Op, len(b), m.Size())
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("op %d: %v", m.Op, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("decoded %+v\nwant %+v", got, m)
		}
		if id, ok := ID(b); !ok || id != m.ID {
			t.Errorf("ID = %d, %v; want %d", id, ok, m.ID)
		}
	}
}

// TestLayout pins the byte layout the worker and the page share.
func TestLayout(t *testing.T) {
	m := Message{ID: 0x01020304, Op: OpLoad, Model: 5, Keep: 6, Text: []byte("x"), Floats: []float32{1}, Order: []int32{-1}}
	want := []byte{'W', 'M', 'W', '1', 4, 3, 2, 1, 1, 5, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 'x',
		1, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}
	if got := m.Encode(); !bytes.Equal(got, want) {
		t.Errorf("encoded % x\nwant    % x", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := sample().Encode()
	bad := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":     {nil, "not a webmae worker message"},
		"magic":     {bad(func(b []byte) []byte { b[0] = 'X'; return b }), "not a webmae worker message"},
		"op":        {bad(func(b []byte) []byte { b[8] = 99; return b }), "unknown op 99"},
		"truncated": {good[:len(good)-1], "claims 4 values but only 15 bytes follow"},
		"no fields": {good[:headerSize+6], "ends inside its keep count"},
		"trailing":  {append(append([]byte(nil), good...), 0), "1 bytes after its last field"},
		"huge count": {bad(func(b []byte) []byte {
			copy(b[headerSize+8:], []byte{0xff, 0xff, 0xff, 0xff})
			return b
		}), "text claims 4294967295 values"},
	} {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

func TestMaskingOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const l, keep = 49, 12
	mk, err := model.MaskFromNoise(model.RandomNoise(rng, 1, l), 1, l, keep)
	if err != nil {
		t.Fatal(err)
	}
	order, err := OrderOf(mk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MaskingOf(order, keep)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, mk) {
		t.Errorf("rebuilt masking %+v\nwant %+v", got, mk)
	}
	for name, c := range map[string]struct {
		order []int32
		keep  int
		want  string
	}{
		"repeat": {[]int32{0, 0, 1}, 1, "not a permutation"},
		"range":  {[]int32{0, 3, 1}, 1, "not a permutation"},
		"keep 0": {[]int32{0, 1, 2}, 0, "need 1 <= keep < 3"},
		"all":    {[]int32{0, 1, 2}, 3, "need 1 <= keep < 3"},
	} {
		if _, err := MaskingOf(c.order, c.keep); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	if _, err := OrderOf(model.Masking{B: 2, L: 1, Restore: []int32{0, 0}}); err == nil {
		t.Error("a masking of 2 images was accepted")
	}
}

// FuzzDecode: any bytes decode to a message or an error, never a panic,
// and what decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(sample().Encode())
	f.Add(Message{Op: OpError, Text: []byte("no")}.Encode())
	f.Add([]byte("WMW1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if got := m.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded % x\nfrom % x", got, b)
		}
		if m.Keep >= 1 && int(m.Keep) < len(m.Order) {
			if mk, err := MaskingOf(m.Order, int(m.Keep)); err == nil {
				if order, err := OrderOf(mk); err != nil || !reflect.DeepEqual(order, m.Order) {
					t.Fatalf("order %v came back as %v (%v)", m.Order, order, err)
				}
			}
		}
	})
}
