package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"webmae/engine/fileio"
)

// MaxSafetensorsFileSize is the largest file LoadSafetensorsFile reads
// (2 GiB): far above any MAE this project trains (ViT-Huge with its
// decoder is about 2.6 GB in float32, so ship it as F16), and a guard
// against reading an unrelated multi-gigabyte file into memory by mistake.
const MaxSafetensorsFileSize = 2 << 30

// MaxHeaderSize bounds a safetensors header before it is parsed (the
// reference library's 100 MB limit), MaxTensors its entries while it is:
// far more than any MAE has (ViT-Huge with its decoder has about 600).
const (
	MaxHeaderSize = 100_000_000
	MaxTensors    = 1 << 14
)

// maxDim bounds every dimension of a tensor shape so that element counts
// and offsets computed with int never overflow.
const maxDim = math.MaxInt32

// HostTensor is a tensor in host memory. Exactly one of F32 and I64 holds
// the elements, row-major, len = product of Shape (1 for a scalar): float
// tensors of any stored float dtype are widened to float32, integer
// tensors are kept as int64. A tensor whose I64 is nil is a float tensor.
type HostTensor struct {
	Shape []int
	F32   []float32
	I64   []int64
}

// NumElements is the product of a shape's dimensions (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// IsInt reports whether the tensor holds int64 elements.
func (t HostTensor) IsInt() bool { return t.I64 != nil }

// Len is the number of stored elements.
func (t HostTensor) Len() int {
	if t.IsInt() {
		return len(t.I64)
	}
	return len(t.F32)
}

// validate checks that the tensor is well formed.
func (t HostTensor) validate() error {
	if t.F32 != nil && t.I64 != nil {
		return errors.New("both F32 and I64 are set")
	}
	for _, d := range t.Shape {
		if d < 0 || d > maxDim {
			return fmt.Errorf("shape %v has a dimension out of range", t.Shape)
		}
	}
	if n := NumElements(t.Shape); t.Len() != n {
		return fmt.Errorf("shape %v needs %d elements, have %d", t.Shape, n, t.Len())
	}
	return nil
}

// Supported stored dtypes.
var supportedDTypes = map[string]safetensors.DType{
	"F32":  safetensors.F32,
	"F16":  safetensors.F16,
	"BF16": safetensors.BF16,
	"F64":  safetensors.F64,
	"I64":  safetensors.I64,
}

// headerEntry is one tensor's entry in a safetensors header.
type headerEntry struct {
	name  string
	dtype safetensors.DType
	shape []int
	begin uint64
	end   uint64
}

// ReadSafetensors parses a whole safetensors file. F32, F16, BF16 and F64
// tensors are returned as float32 (F64 rounded to nearest: PyTorch float64
// reference outputs), I64 tensors as int64; any other dtype is
// an error. Every structural problem (a header longer than the file,
// offsets out of range, overlapping or leaving holes, a shape that does not
// match its byte size, duplicate names) is an error naming the tensor.
func ReadSafetensors(data []byte) (tensors map[string]HostTensor, metadata map[string]string, err error) {
	entries, metadata, err := checkSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	st, err := safetensors.Deserialize(data)
	if err != nil { // not expected after our checks; keep the library's word
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	tensors = make(map[string]HostTensor, len(entries))
	for _, e := range entries {
		view, ok := st.Tensor(e.name)
		if !ok {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: not found by the parser", e.name)
		}
		t, err := decodeTensor(view, e.shape)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %q: %w", e.name, err)
		}
		tensors[e.name] = t
	}
	return tensors, metadata, nil
}

// checkSafetensors validates the framing and header of a safetensors file
// and returns its tensor entries (sorted by offset) and metadata.
func checkSafetensors(data []byte) ([]headerEntry, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("header length %d is over the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("header length %d exceeds the %d bytes that follow it (truncated or not a safetensors file)", n, len(data)-8)
	}
	entries, metadata, err := parseHeader(data[8 : 8+n])
	if err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if err := checkOffsets(entries, uint64(len(data))-8-n); err != nil {
		return nil, nil, err
	}
	return entries, metadata, nil
}

// rawEntry is the JSON form of a tensor entry.
type rawEntry struct {
	DType       string   `json:"dtype"`
	Shape       []uint64 `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// parseHeader decodes the JSON header, rejecting duplicate names.
func parseHeader(hdr []byte) ([]headerEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var entries []headerEntry
	metadata := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("unexpected token %v", tok)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("tensor %q appears twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&metadata); err != nil {
				return nil, nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		if len(entries) == MaxTensors {
			return nil, nil, fmt.Errorf("more than %d tensors", MaxTensors)
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		e, err := raw.entry(name)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, err
	}
	if metadata == nil { // "__metadata__": null
		metadata = map[string]string{}
	}
	if rest := bytes.TrimLeft(hdr[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, nil, fmt.Errorf("%d bytes of garbage after the JSON object", len(rest))
	}
	return entries, metadata, nil
}

// entry checks one tensor's dtype, shape and byte size.
func (r rawEntry) entry(name string) (headerEntry, error) {
	dt, ok := supportedDTypes[r.DType]
	if !ok {
		return headerEntry{}, fmt.Errorf("unsupported dtype %q (supported: F32, F16, BF16, F64, I64)", r.DType)
	}
	if len(r.DataOffsets) != 2 {
		return headerEntry{}, fmt.Errorf("data_offsets has %d values, want 2", len(r.DataOffsets))
	}
	e := headerEntry{name: name, dtype: dt, shape: make([]int, len(r.Shape)), begin: r.DataOffsets[0], end: r.DataOffsets[1]}
	elems := uint64(1)
	for i, d := range r.Shape {
		if d > maxDim {
			return headerEntry{}, fmt.Errorf("shape %v: dimension %d is too large", r.Shape, d)
		}
		e.shape[i] = int(d)
		elems = satMul(elems, d)
	}
	if e.begin > e.end {
		return headerEntry{}, fmt.Errorf("data_offsets [%d, %d] are reversed", e.begin, e.end)
	}
	want, got := satMul(elems, dt.Size()), e.end-e.begin
	if want == math.MaxUint64 {
		return headerEntry{}, fmt.Errorf("shape %v of %s: the byte size overflows", r.Shape, r.DType)
	}
	if want != got {
		return headerEntry{}, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", r.Shape, r.DType, want, e.begin, e.end, got)
	}
	return e, nil
}

// satMul multiplies, saturating at MaxUint64 instead of wrapping.
func satMul(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// checkOffsets verifies that the tensors tile the data section exactly:
// in range, no overlap, no hole, nothing left over.
func checkOffsets(entries []headerEntry, dataLen uint64) error {
	for _, e := range entries {
		if e.end > dataLen {
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range: the data section has %d bytes (truncated file?)", e.name, e.begin, e.end, dataLen)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		return a.begin < b.begin || (a.begin == b.begin && a.end < b.end)
	})
	pos, prev := uint64(0), ""
	for _, e := range entries {
		switch {
		case e.begin < pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap tensor %q", e.name, e.begin, e.end, prev)
		case e.begin > pos:
			return fmt.Errorf("tensor %q: data_offsets [%d, %d] leave %d unused bytes before it", e.name, e.begin, e.end, e.begin-pos)
		}
		pos, prev = e.end, e.name
	}
	if pos != dataLen {
		return fmt.Errorf("%d unused bytes after the last tensor", dataLen-pos)
	}
	return nil
}

// decodeTensor widens a stored tensor to a HostTensor.
func decodeTensor(v safetensors.TensorView, shape []int) (HostTensor, error) {
	raw, n := v.Data(), NumElements(shape)
	if uint64(len(raw)) != uint64(n)*v.DType().Size() {
		return HostTensor{}, fmt.Errorf("%d bytes for %d elements of %s", len(raw), n, v.DType())
	}
	t := HostTensor{Shape: shape}
	switch v.DType() {
	case safetensors.F32:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case safetensors.F16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case safetensors.BF16:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case safetensors.F64:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case safetensors.I64:
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
	default:
		return HostTensor{}, fmt.Errorf("unsupported dtype %s", v.DType())
	}
	return t, nil
}

// LoadSafetensorsFile reads a safetensors file (see ReadSafetensors),
// refusing files over MaxSafetensorsFileSize.
func LoadSafetensorsFile(path string) (tensors map[string]HostTensor, metadata map[string]string, err error) {
	data, err := fileio.ReadFile(path, MaxSafetensorsFileSize)
	if errors.Is(err, fileio.ErrTooLarge) {
		return nil, nil, fmt.Errorf("load safetensors: %w (store the weights as F16 or use a smaller model)", err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load safetensors: %w", err)
	}
	tensors, metadata, err = ReadSafetensors(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return tensors, metadata, nil
}

// storedTensor is a tensor encoded for writing; it implements
// safetensors.View.
type storedTensor struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

func (s storedTensor) DType() safetensors.DType { return s.dtype }
func (s storedTensor) Shape() []uint64          { return s.shape }
func (s storedTensor) Data() []byte             { return s.data }
func (s storedTensor) DataLen() uint64          { return uint64(len(s.data)) }

// encodeTensor stores a HostTensor as F32, F16 (half) or I64.
func encodeTensor(t HostTensor, half bool) storedTensor {
	s := storedTensor{shape: make([]uint64, len(t.Shape))}
	for i, d := range t.Shape {
		s.shape[i] = uint64(d)
	}
	switch {
	case t.IsInt():
		s.dtype, s.data = safetensors.I64, make([]byte, 8*len(t.I64))
		for i, v := range t.I64 {
			binary.LittleEndian.PutUint64(s.data[8*i:], uint64(v))
		}
	case half:
		s.dtype, s.data = safetensors.F16, make([]byte, 2*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint16(s.data[2*i:], F32ToF16(v))
		}
	default:
		s.dtype, s.data = safetensors.F32, make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint32(s.data[4*i:], math.Float32bits(v))
		}
	}
	return s
}

// WriteSafetensors writes the named tensors (all of them, when names is
// nil) as a safetensors file with the given metadata. Float tensors are
// stored as F32, or as F16 (rounded to nearest even) where half(name)
// reports true; half may be nil. Integer tensors are stored as I64. The
// output is deterministic: tensors are laid out by dtype, then name.
func WriteSafetensors(w io.Writer, names []string, tensors map[string]HostTensor, metadata map[string]string, half func(name string) bool) error {
	if names == nil {
		for name := range tensors {
			names = append(names, name)
		}
	}
	views := make(map[string]storedTensor, len(names))
	for _, name := range names {
		t, ok := tensors[name]
		if !ok {
			return fmt.Errorf("write safetensors: tensor %q: not given", name)
		}
		if _, dup := views[name]; dup {
			return fmt.Errorf("write safetensors: tensor %q: named twice", name)
		}
		if name == "__metadata__" {
			return fmt.Errorf("write safetensors: tensor %q: reserved name", name)
		}
		if err := t.validate(); err != nil {
			return fmt.Errorf("write safetensors: tensor %q: %w", name, err)
		}
		views[name] = encodeTensor(t, half != nil && half(name))
	}
	if len(metadata) == 0 {
		metadata = nil
	}
	if err := safetensors.SerializeToWriter(views, metadata, w); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// SaveSafetensorsFile writes a safetensors file (see WriteSafetensors)
// atomically: to a temporary file in the same directory, then renamed.
func SaveSafetensorsFile(path string, names []string, tensors map[string]HostTensor, metadata map[string]string, half func(name string) bool) error {
	return fileio.WriteAtomic(path, func(w io.Writer) error {
		return WriteSafetensors(w, names, tensors, metadata, half)
	})
}

// F32ToF16 converts to IEEE half precision, rounding to nearest even;
// values beyond the half range become infinities, NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 // quiet NaN
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // half exponent field
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // a half subnormal (or zero)
		if e < -10 {
			return sign // below half the smallest subnormal
		}
		return sign | uint16(roundShift(mant|0x800000, uint(14-e)))
	}
	// Normal: a carry out of the mantissa correctly bumps the exponent,
	// up to infinity.
	return sign | uint16(roundShift(uint32(e)<<23|mant, 13))
}

// roundShift returns v >> s rounded to nearest even.
func roundShift(v uint32, s uint) uint32 {
	q, rem, half := v>>s, v&(1<<s-1), uint32(1)<<(s-1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// F16ToF32 converts an IEEE half to float32 (exactly).
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(f) | sign)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// joinCapped lists at most max items, then how many more there are.
func joinCapped(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s, and %d more", strings.Join(items[:max], ", "), len(items)-max)
}
