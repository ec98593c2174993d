package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// dictEntry is one key/value pair of a pickled dict or OrderedDict.
type dictEntry struct {
	key, value any
}

// dictItems returns the entries of a pickled dict or OrderedDict in order,
// and false for anything else.
func dictItems(v any) ([]dictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		out := make([]dictEntry, len(*d))
		for i, e := range *d {
			out[i] = dictEntry{e.Key, e.Value}
		}
		return out, true
	case *types.OrderedDict:
		out := make([]dictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			oe := e.Value.(*types.OrderedDictEntry)
			out = append(out, dictEntry{oe.Key, oe.Value})
		}
		return out, true
	}
	return nil, false
}

// refuse describes a value that is not allowed where a tensor or dict is read.
func refuse(where string, v any) error {
	switch x := v.(type) {
	case *foreign:
		return fmt.Errorf("refusing %s in %s: a checkpoint may only construct tensors, storages and dicts (nothing in it is ever run)", x.global, where)
	case *badValue:
		return fmt.Errorf("%s: %w", where, x.err)
	}
	return fmt.Errorf("%s is a %s, not a tensor", where, pyTypeName(v))
}

// pyTypeName names the Python type behind an unpickled value.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case int, *big.Int:
		return "int"
	case *types.Tuple:
		return "tuple"
	case *types.List:
		return "list"
	case string:
		return "str"
	case float64:
		return "float"
	case bool:
		return "bool"
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case *tensorRef:
		return "tensor"
	case *storageRef:
		return "storage"
	case *foreign:
		return x.global
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*")
}

// stateDict finds the state_dict (the 'model' entry of the official
// layout, else the whole object) and reads its tensors.
func (c *torchFile) stateDict() (map[string]HostTensor, error) {
	items, ok := dictItems(c.root)
	if !ok {
		return nil, refuse("the checkpoint's object", c.root)
	}
	where := "the state_dict"
	var model any
	for _, e := range items {
		if e.key == "model" {
			model = e.value // the last one wins, as in Python
		}
	}
	switch m := model.(type) {
	case *foreign, *badValue:
		return nil, refuse("checkpoint['model']", m)
	case *types.Dict, *types.OrderedDict:
		items, _ = dictItems(m)
		where = "checkpoint['model']"
	}
	out := make(map[string]HostTensor, len(items))
	for _, e := range items {
		name, ok := e.key.(string)
		if !ok {
			return nil, fmt.Errorf("%s has a key of type %s", where, pyTypeName(e.key))
		}
		at := fmt.Sprintf("%s[%q]", where, name)
		t, ok := e.value.(*tensorRef)
		if !ok {
			return nil, refuse(at, e.value)
		}
		ht, err := c.materialize(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		out[name] = ht
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no tensors", where)
	}
	return out, nil
}

// storageBytes returns a storage's bytes, reading them once.
func (c *torchFile) storageBytes(s *storageRef) ([]byte, error) {
	if s.data != nil {
		return s.data, nil
	}
	if s.numel > c.size/max(s.dtype.size, 1) {
		return nil, fmt.Errorf("storage %q of %d elements is larger than the file", s.key, s.numel)
	}
	b, err := c.load(s)
	if err != nil {
		return nil, err
	}
	s.data = b
	return b, nil
}

// materialize copies a tensor view out of its storage, widening floats to
// float32. The tensor's extent must lie inside the storage, and all tensors
// together may hold at most as many elements as the file has bytes.
func (c *torchFile) materialize(t *tensorRef) (HostTensor, error) {
	s := t.storage
	switch s.dtype.name {
	case "float32", "float16", "bfloat16", "float64", "int64":
	default:
		return HostTensor{}, fmt.Errorf("dtype %s is not supported (float32, float16, bfloat16, float64, int64)", s.dtype.name)
	}
	n := 1
	last := t.offset // the largest element index the view touches
	for i, d := range t.size {
		if d == 0 {
			n = 0
			break
		}
		if n > c.budget/d {
			return HostTensor{}, fmt.Errorf("shape %v: more elements than the file can hold", t.size)
		}
		n *= d
		if t.stride[i] > s.numel {
			return HostTensor{}, fmt.Errorf("stride %v exceeds the storage of %d elements", t.stride, s.numel)
		}
		last += (d - 1) * t.stride[i] // each term < 2^31 * 2^31, at most 16 terms
	}
	if n > 0 && last >= s.numel {
		return HostTensor{}, fmt.Errorf("view (offset %d, size %v, stride %v) exceeds its storage of %d elements", t.offset, t.size, t.stride, s.numel)
	}
	c.budget -= n
	data, err := c.storageBytes(s)
	if err != nil {
		return HostTensor{}, err
	}
	ht := HostTensor{Shape: append([]int{}, t.size...)}
	if s.dtype.name == "int64" {
		ht.I64 = make([]int64, n)
		forEachIndex(t, n, func(i, src int) { ht.I64[i] = int64(binary.LittleEndian.Uint64(data[8*src:])) })
		return ht, nil
	}
	ht.F32 = make([]float32, n)
	dec := floatDecoder(s.dtype.name)
	forEachIndex(t, n, func(i, src int) { ht.F32[i] = dec(data, src) })
	return ht, nil
}

// floatDecoder returns how to read element i of a float storage.
func floatDecoder(dtype string) func(b []byte, i int) float32 {
	switch dtype {
	case "float16":
		return func(b []byte, i int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[2*i:])) }
	case "bfloat16":
		return func(b []byte, i int) float32 {
			return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case "float64":
		return func(b []byte, i int) float32 {
			return float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}
	return func(b []byte, i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])) }
}

// forEachIndex calls f(i, src) for the n elements of a view in row-major
// order, src being the element's index in the storage.
func forEachIndex(t *tensorRef, n int, f func(i, src int)) {
	if n == 0 {
		return
	}
	rank := len(t.size)
	idx := make([]int, rank)
	src := t.offset
	for i := 0; i < n; i++ {
		f(i, src)
		for d := rank - 1; d >= 0; d-- { // odometer increment
			idx[d]++
			src += t.stride[d]
			if idx[d] < t.size[d] {
				break
			}
			src -= idx[d] * t.stride[d]
			idx[d] = 0
		}
	}
}
