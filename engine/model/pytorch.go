package model

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// PyTorchModelFileName is the weights file of a Hugging Face repository
// saved without safetensors.
const PyTorchModelFileName = "pytorch_model.bin"

// The legacy (pre-1.6) torch.save format starts with these two pickles.
const (
	torchLegacyMagic    = "1950a86a20f9469cfc6c"
	torchLegacyProtocol = 1001
	maxTensorRank       = 16
)

// legacyMagicPickle is how the legacy format's first pickle, torch's magic
// number, starts after its protocol opcode: LONG1 of 10 bytes.
var legacyMagicPickle = []byte{0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// IsPyTorch reports whether data starts like a torch.save file: a zip
// archive ("PK\x03\x04") or a pickle of torch's magic number (the legacy
// format). A safetensors file whose header length has the low byte 0x80
// starts with 0x80 too, so the whole magic number is compared.
func IsPyTorch(data []byte) bool {
	return bytes.HasPrefix(data, []byte("PK\x03\x04")) ||
		(len(data) >= 2+len(legacyMagicPickle) && data[0] == 0x80 && data[1] <= 5 && bytes.Equal(data[2:2+len(legacyMagicPickle)], legacyMagicPickle))
}

// ReadPyTorch reads the state_dict of a checkpoint written by torch.save,
// in torch's zip format or its legacy format: either the official MAE
// layout {'model': state_dict, 'optimizer', 'epoch', 'args', ...}, of which
// only 'model' is read, or a bare state_dict (Hugging Face
// pytorch_model.bin). Float32, float16, bfloat16 and float64 tensors are
// returned as float32, int64 tensors as int64; views (storage offsets,
// strides, storages shared by several tensors) are resolved.
//
// Nothing in the file is ever run. The unpickler constructs only tensors,
// storages and (ordered) dicts; any other global (a class such as
// argparse.Namespace, a function such as os.system) becomes an inert
// placeholder, and a placeholder found in the part that is read is refused
// with an error naming the global. The other entries are never looked at.
func ReadPyTorch(data []byte) (map[string]HostTensor, error) {
	var (
		c   *torchFile
		err error
	)
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		c, err = openTorchZip(data)
	case len(data) >= 2 && data[0] == 0x80:
		c, err = openTorchLegacy(data)
	default:
		return nil, errors.New("pytorch: not a torch.save file (neither a zip archive nor a pickle)")
	}
	if err != nil {
		return nil, oneLine(fmt.Errorf("pytorch: %w", err))
	}
	tensors, err := c.stateDict()
	if err != nil {
		return nil, oneLine(fmt.Errorf("pytorch: %w", err))
	}
	return tensors, nil
}

// maxErrorLen caps an error message: the unpickler's messages may quote
// values from the file.
const maxErrorLen = 400

// oneLine makes an error one line of at most maxErrorLen bytes.
func oneLine(err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) <= maxErrorLen && msg == err.Error() {
		return err
	}
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "…"
	}
	return errors.New(msg)
}

// torchFile is an unpickled checkpoint whose storages are read on demand.
type torchFile struct {
	root     any
	size     int                                 // the file's size: bounds what is allocated
	load     func(s *storageRef) ([]byte, error) // the raw bytes of a storage
	budget   int                                 // tensor elements still allowed
	storages map[string]*storageRef
}

// torchDType is the element type of a storage class (torch.FloatStorage...).
type torchDType struct {
	name string
	size int
}

var torchStorageTypes = map[string]torchDType{
	"FloatStorage": {"float32", 4}, "HalfStorage": {"float16", 2}, "BFloat16Storage": {"bfloat16", 2},
	"DoubleStorage": {"float64", 8}, "LongStorage": {"int64", 8}, "IntStorage": {"int32", 4},
	"ShortStorage": {"int16", 2}, "CharStorage": {"int8", 1}, "ByteStorage": {"uint8", 1},
	"BoolStorage": {"bool", 1}, "ComplexFloatStorage": {"complex64", 8}, "ComplexDoubleStorage": {"complex128", 16},
}

// storageType is an allowed storage class global.
type storageType struct{ dtype torchDType }

// storageRef is a storage named by a persistent id; its bytes are read
// only if a tensor that is read uses it.
type storageRef struct {
	key   string
	dtype torchDType
	numel int
	data  []byte
}

// tensorRef is a tensor as _rebuild_tensor_v2 describes it: a view of a
// storage.
type tensorRef struct {
	storage *storageRef
	offset  int
	size    []int
	stride  []int
}

// foreign is the inert placeholder for any global that is not allowed, and
// for anything made from one: calling, instantiating or setting its state
// does nothing and yields the same placeholder.
type foreign struct{ global string }

func (f *foreign) Call(...any) (any, error)  { return f, nil }
func (f *foreign) PyNew(...any) (any, error) { return f, nil }
func (f *foreign) PySetState(any) error      { return nil }
func (f *foreign) PyDictSet(_, _ any) error  { return nil }

// badValue stands for an allowed constructor called with arguments it
// cannot use; it is an error only if the part that is read contains it.
type badValue struct{ err error }

func (b *badValue) PySetState(any) error     { return nil }
func (b *badValue) PyDictSet(_, _ any) error { return nil }

// rebuildTensor is torch._utils._rebuild_tensor(_v2).
type rebuildTensor struct{}

// rebuildParameter is torch._utils._rebuild_parameter(_with_state): the
// tensor is its first argument.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return &badValue{errors.New("_rebuild_parameter without arguments")}, nil
	}
	switch a := args[0].(type) {
	case *tensorRef, *foreign, *badValue:
		return a, nil
	}
	return &badValue{fmt.Errorf("_rebuild_parameter of a %T", args[0])}, nil
}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return &badValue{fmt.Errorf("_rebuild_tensor with %d arguments", len(args))}, nil
	}
	switch s := args[0].(type) {
	case *foreign, *badValue:
		return s, nil
	case *storageRef:
		off, ok := args[1].(int)
		size, err1 := intTuple(args[2])
		stride, err2 := intTuple(args[3])
		switch {
		case !ok || off < 0:
			return &badValue{fmt.Errorf("a tensor storage offset that is not a size (a %s)", pyTypeName(args[1]))}, nil
		case err1 != nil || err2 != nil:
			return &badValue{fmt.Errorf("tensor size or stride: %w", errors.Join(err1, err2))}, nil
		case len(size) != len(stride) || len(size) > maxTensorRank:
			return &badValue{fmt.Errorf("tensor size %v with stride %v", size, stride)}, nil
		}
		return &tensorRef{storage: s, offset: off, size: size, stride: stride}, nil
	}
	return &badValue{fmt.Errorf("_rebuild_tensor of a %T", args[0])}, nil
}

// intTuple converts a pickled tuple of non-negative ints.
func intTuple(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("a %s, not a tuple", pyTypeName(v))
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok || n < 0 || n > maxDim {
			return nil, fmt.Errorf("element %d is not a size (a %s)", i, pyTypeName(t.Get(i)))
		}
		out[i] = n
	}
	return out, nil
}

// findClass resolves a pickle global: the tensor rebuilders and storage
// classes are real, everything else an inert placeholder. (The unpickler
// itself provides collections.OrderedDict.)
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return rebuildParameter{}, nil
	}
	if dt, ok := torchStorageTypes[name]; ok && module == "torch" {
		return &storageType{dt}, nil
	}
	return &foreign{global: module + "." + name}, nil
}

// unpickle runs the restricted unpickler over one pickle, which must fill
// b exactly. persistent resolves persistent ids (nil: none allowed).
func unpickle(b []byte, persistent func(any) (any, error)) (v any, err error) {
	n, err := scanPickle(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("pickle: %d bytes after STOP", len(b)-n)
	}
	defer func() {
		if r := recover(); r != nil { // the unpickler panics on some malformed input
			v, err = nil, fmt.Errorf("pickle: malformed (%v)", r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(b))
	u.FindClass = findClass
	u.PersistentLoad = persistent
	if persistent == nil {
		u.PersistentLoad = func(any) (any, error) { return nil, errors.New("pickle: unexpected persistent id") }
	}
	v, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

// persistentLoad resolves ('storage', storage_type, key, location, numel
// [, view_metadata]) to the storage of that key, one per key.
func (c *torchFile) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 5 || t.Get(0) != "storage" {
		return nil, fmt.Errorf("a persistent id that is not a storage (a %s)", pyTypeName(pid))
	}
	key, ok1 := t.Get(2).(string)
	numel, ok2 := t.Get(4).(int)
	if !ok1 || !ok2 || numel < 0 {
		return nil, errors.New("a storage id with a bad key or size")
	}
	if t.Len() > 5 && t.Get(5) != nil {
		return &badValue{errors.New("storage views (torch < 0.4) are not supported")}, nil
	}
	var dt torchDType
	switch st := t.Get(1).(type) {
	case *storageType:
		dt = st.dtype
	case *foreign:
		dt = torchDType{name: st.global}
	default:
		return nil, fmt.Errorf("storage %q: type %T", key, st)
	}
	if s, ok := c.storages[key]; ok {
		if s.dtype != dt || s.numel != numel {
			return &badValue{fmt.Errorf("storage %q declared twice differently", key)}, nil
		}
		return s, nil
	}
	s := &storageRef{key: key, dtype: dt, numel: numel}
	c.storages[key] = s
	return s, nil
}

// openTorchZip reads torch's zip format: ARCHIVE/data.pkl is the pickle,
// ARCHIVE/data/KEY the bytes of storage KEY.
func openTorchZip(data []byte) (*torchFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		dir, base := path.Split(f.Name)
		switch {
		case base == "constants.pkl":
			return nil, errors.New("a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
		case base == "data.pkl" && strings.Count(f.Name, "/") == 1:
			if prefix != "" {
				return nil, errors.New("zip holds more than one data.pkl")
			}
			prefix = dir
		}
	}
	if prefix == "" {
		return nil, errors.New("zip has no ARCHIVE/data.pkl: not a torch.save checkpoint")
	}
	if f, ok := files[prefix+"byteorder"]; ok {
		if f.UncompressedSize64 > 8 {
			return nil, fmt.Errorf("byteorder record of %d bytes", f.UncompressedSize64)
		}
		b, err := readZipFile(f, int(f.UncompressedSize64))
		if err != nil {
			return nil, err
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("byte order %q is not supported (little-endian only)", b)
		}
	}
	pf := files[prefix+"data.pkl"]
	if pf.UncompressedSize64 > uint64(len(data)) {
		return nil, fmt.Errorf("data.pkl of %d bytes in a file of %d", pf.UncompressedSize64, len(data))
	}
	pkl, err := readZipFile(pf, int(pf.UncompressedSize64))
	if err != nil {
		return nil, err
	}
	c := &torchFile{size: len(data), budget: len(data), storages: map[string]*storageRef{}}
	c.load = func(s *storageRef) ([]byte, error) {
		f, ok := files[prefix+"data/"+s.key]
		if !ok {
			return nil, fmt.Errorf("storage %q: no record %sdata/%s", s.key, prefix, s.key)
		}
		need := s.numel * s.dtype.size // at most the file's size (checked by storageBytes)
		if f.UncompressedSize64 < uint64(need) {
			return nil, fmt.Errorf("storage %q: record of %d bytes, need %d", s.key, f.UncompressedSize64, need)
		}
		return readZipFile(f, need)
	}
	if c.root, err = unpickle(pkl, c.persistentLoad); err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	return c, nil
}

// readZipFile reads the first n bytes of a zip record (n at most its size,
// which the callers check against the file's).
func readZipFile(f *zip.File, n int) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zip record %s: %w", f.Name, err)
	}
	defer r.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("zip record %s: %w", f.Name, err)
	}
	return buf, nil
}

// openTorchLegacy reads the legacy format (torch.save with
// _use_new_zipfile_serialization=False): five pickles (magic number,
// protocol version, system info, the object, the storage keys) and then,
// for each key in order, the storage's element count (int64) and bytes.
func openTorchLegacy(data []byte) (*torchFile, error) {
	pos := 0
	next := func(what string, persistent func(any) (any, error)) (any, error) {
		n, err := scanPickle(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("legacy format, %s: %w", what, err)
		}
		v, err := unpickle(data[pos:pos+n], persistent)
		if err != nil {
			return nil, fmt.Errorf("legacy format, %s: %w", what, err)
		}
		pos += n
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != torchLegacyMagic {
		return nil, errors.New("a pickle without torch's magic number: not a torch.save checkpoint")
	}
	if v, err := next("protocol version", nil); err != nil {
		return nil, err
	} else if v != torchLegacyProtocol {
		return nil, fmt.Errorf("legacy format protocol %v is not supported (want %d)", v, torchLegacyProtocol)
	}
	if _, err := next("system info", nil); err != nil {
		return nil, err
	}
	c := &torchFile{size: len(data), budget: len(data), storages: map[string]*storageRef{}}
	if c.root, err = next("object", c.persistentLoad); err != nil {
		return nil, err
	}
	keys, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	if err := c.indexLegacyStorages(data, pos, keys); err != nil {
		return nil, err
	}
	c.load = func(s *storageRef) ([]byte, error) { return s.data, nil }
	return c, nil
}

// indexLegacyStorages points every storage at its bytes after the pickles.
func (c *torchFile) indexLegacyStorages(data []byte, pos int, keys any) error {
	list, ok := keys.(*types.List)
	if !ok {
		return fmt.Errorf("legacy format: storage keys are a %T, not a list", keys)
	}
	for _, k := range *list {
		key, _ := k.(string)
		s, ok := c.storages[key]
		if !ok {
			return fmt.Errorf("legacy format: storage key %v is not used by the object", k)
		}
		if s.dtype.size == 0 {
			return fmt.Errorf("legacy format: storage %q has the unknown type %s", key, s.dtype.name)
		}
		if len(data)-pos < 8 {
			return fmt.Errorf("legacy format: storage %q: file ends before its size", key)
		}
		n := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		if n != uint64(s.numel) {
			return fmt.Errorf("legacy format: storage %q holds %d elements, its tensors say %d", key, n, s.numel)
		}
		nb := uint64(s.numel) * uint64(s.dtype.size)
		if nb > uint64(len(data)-pos) {
			return fmt.Errorf("legacy format: storage %q of %d bytes exceeds the %d bytes left", key, nb, len(data)-pos)
		}
		s.data = data[pos : pos+int(nb)]
		pos += int(nb)
	}
	return nil
}
