// Package workermsg is the message protocol between the page and the CPU
// engine's Web Worker (cmd/webmae-worker): one message is one ArrayBuffer,
// transferred (not copied) by postMessage, holding a request or its reply
// in a small binary layout that this package encodes and decodes. It is
// plain Go, so the layout is tested and fuzzed natively.
//
// Layout, little-endian: the magic "WMW1", the request id (u32), the op
// (u8), then every field of Message in order: Model (u32), Keep (u32),
// Text (u32 length + bytes), Floats (u32 count + f32s), Norm (u32 count +
// f32s), Order (u32 count + i32s). Every field is always present (empty
// ones cost their 4-byte count); which ones an op uses is listed at Op.
package workermsg

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"webmae/engine/model"
)

// Op says what a message asks or answers.
type Op uint8

const (
	// OpLoad makes the worker's model: Model is the key the page gives
	// it, Text its Hugging Face config.json, Norm the per-channel means
	// then standard deviations, Floats the flat parameters
	// (model.Layout order). Reply: OpDone.
	OpLoad Op = 1
	// OpReconstruct runs the loaded model Model on one image: Floats is
	// the normalised image (C, H, W), Order the patches in the encoder's
	// order (ids_shuffle: the Keep kept ones first, then the removed
	// ones). Reply: OpDone with the prediction (L, P*P*C) in Floats.
	OpReconstruct Op = 2
	// OpBench times a one-image reconstruction of a freshly initialised
	// model in the worker (engine/bench.Reconstruct on the CPU backend):
	// Text is the JSON of BenchArgs. Reply: OpDone with engine/bench's
	// Result as JSON in Text.
	OpBench Op = 3
	// OpDone answers a request that succeeded.
	OpDone Op = 0x40
	// OpError answers a request that failed: Text is a one-sentence
	// error.
	OpError Op = 0x41
)

func (o Op) valid() bool {
	return o == OpLoad || o == OpReconstruct || o == OpBench || o == OpDone || o == OpError
}

// Message is one request or reply.
type Message struct {
	ID     uint32 // the request's id, repeated by its reply
	Op     Op
	Model  uint32
	Keep   uint32
	Text   []byte
	Floats []float32
	Norm   []float32
	Order  []int32
}

// BenchArgs are OpBench's arguments: the model's Hugging Face config, the
// name it is reported under, and the least repetitions and time.
type BenchArgs struct {
	Config    json.RawMessage `json:"config"`
	Preset    string          `json:"preset"`
	MinReps   int             `json:"min_reps"`
	MinTimeMs int             `json:"min_time_ms"`
}

var magic = [4]byte{'W', 'M', 'W', '1'}

// headerSize is the magic, id and op; fieldsSize the fixed fields and the
// four counts.
const (
	headerSize = 4 + 4 + 1
	fieldsSize = 4 + 4 + 4*4
)

// Size is the encoded length of m.
func (m Message) Size() int {
	return headerSize + fieldsSize + len(m.Text) + 4*(len(m.Floats)+len(m.Norm)+len(m.Order))
}

// Encode returns m's bytes.
func (m Message) Encode() []byte {
	b := make([]byte, 0, m.Size())
	b = append(b, magic[:]...)
	b = binary.LittleEndian.AppendUint32(b, m.ID)
	b = append(b, byte(m.Op))
	b = binary.LittleEndian.AppendUint32(b, m.Model)
	b = binary.LittleEndian.AppendUint32(b, m.Keep)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Text)))
	b = append(b, m.Text...)
	for _, fs := range [][]float32{m.Floats, m.Norm} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(fs)))
		for _, f := range fs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m.Order)))
	for _, v := range m.Order {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// ID reads a message's request id without decoding the rest (the page
// matches replies to requests with it); ok is false when b is not a
// message.
func ID(b []byte) (id uint32, ok bool) {
	if len(b) < headerSize || [4]byte(b[:4]) != magic {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[4:]), true
}

// reader walks an encoded message; sizes are checked against what is
// left before anything is allocated.
type reader struct {
	b   []byte
	err error
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = fmt.Errorf("the message ends inside its %s", what)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

// take returns the next n*size bytes of a field counted n.
func (r *reader) take(n uint32, size int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n)*uint64(size) > uint64(len(r.b)) {
		r.err = fmt.Errorf("the message's %s claims %d values but only %d bytes follow", what, n, len(r.b))
		return nil
	}
	v := r.b[:int(n)*size]
	r.b = r.b[int(n)*size:]
	return v
}

func (r *reader) floats(what string) []float32 {
	raw := r.take(r.u32(what+" count"), 4, what)
	if len(raw) == 0 {
		return nil
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// Decode parses one message: a clear error for anything that is not
// exactly one well-formed message.
func Decode(b []byte) (Message, error) {
	if len(b) < headerSize || [4]byte(b[:4]) != magic {
		return Message{}, errors.New("not a webmae worker message (bad magic or too short)")
	}
	m := Message{ID: binary.LittleEndian.Uint32(b[4:]), Op: Op(b[8])}
	if !m.Op.valid() {
		return Message{}, fmt.Errorf("message %d has the unknown op %d", m.ID, m.Op)
	}
	r := reader{b: b[headerSize:]}
	m.Model = r.u32("model key")
	m.Keep = r.u32("keep count")
	if t := r.take(r.u32("text length"), 1, "text"); len(t) > 0 {
		m.Text = append([]byte(nil), t...)
	}
	m.Floats = r.floats("values")
	m.Norm = r.floats("normalisation")
	if raw := r.take(r.u32("order count"), 4, "patch order"); len(raw) > 0 {
		m.Order = make([]int32, len(raw)/4)
		for i := range m.Order {
			m.Order[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	if r.err != nil {
		return Message{}, fmt.Errorf("message %d: %w", m.ID, r.err)
	}
	if len(r.b) != 0 {
		return Message{}, fmt.Errorf("message %d has %d bytes after its last field", m.ID, len(r.b))
	}
	return m, nil
}

// OrderOf is a one-image masking's patch order (ids_shuffle), as
// OpReconstruct carries it.
func OrderOf(mk model.Masking) ([]int32, error) {
	if mk.B != 1 || len(mk.Restore) != mk.L {
		return nil, fmt.Errorf("the worker reconstructs one image at a time, not a masking of %d", mk.B)
	}
	order := make([]int32, mk.L)
	for p, pos := range mk.Restore {
		if pos < 0 || int(pos) >= mk.L {
			return nil, fmt.Errorf("masking: patch %d has position %d of %d", p, pos, mk.L)
		}
		order[pos] = int32(p)
	}
	return order, nil
}

// MaskingOf rebuilds a one-image masking from its patch order and the
// number of kept patches: the inverse of OrderOf.
func MaskingOf(order []int32, keep int) (model.Masking, error) {
	l := len(order)
	if keep < 1 || keep >= l {
		return model.Masking{}, fmt.Errorf("keeping %d of %d patches: need 1 <= keep < %d", keep, l, l)
	}
	mk := model.Masking{B: 1, L: l, K: keep, Keep: make([]int32, keep), Restore: make([]int32, l), Mask: make([]float32, l)}
	seen := make([]bool, l)
	for i, p := range order {
		if p < 0 || int(p) >= l || seen[p] {
			return model.Masking{}, fmt.Errorf("the patch order is not a permutation of 0..%d (patch %d)", l-1, p)
		}
		seen[p] = true
		mk.Restore[p] = int32(i)
		if i < keep {
			mk.Keep[i] = p
		} else {
			mk.Mask[p] = 1
		}
	}
	return mk, nil
}
