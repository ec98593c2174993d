package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// The models a person brought in (by id, URL or file) are kept in browser
// storage: each weights file as it arrived, beside an index with its
// resolved config.json and preprocessor_config.json, and which model was
// in use last, to restore it after a reload (also offline).
const (
	modelIndexFile    = "webmae-models.json"
	modelWeightsFile  = "webmae-model-" // + key
	originID          = "id"
	originFile        = "file"
	originBundled     = "bundled"
	originTrained     = "trained"
	originInitialised = "initialised"
)

// fileStore is flat named-file storage (OPFS in the browser).
type fileStore interface {
	read(name string) ([]byte, bool, error)
	write(name string, data []byte) error
	remove(name string) error
}

// storedModel is one kept model.
type storedModel struct {
	Key          string          `json:"key"`
	Name         string          `json:"name"`   // the id, URL or file name
	Origin       string          `json:"origin"` // originID or originFile
	Size         int64           `json:"size"`   // bytes of the weights file
	Config       json.RawMessage `json:"config"`
	Preprocessor json.RawMessage `json:"preprocessor,omitempty"`
}

// modelIndex lists the kept models, oldest first.
type modelIndex struct {
	Last   string        `json:"last"` // key of the model in use, "" for none
	Next   int           `json:"next"`
	Models []storedModel `json:"models"`
}

// TotalSize is the storage the kept weights use.
func (ix modelIndex) TotalSize() int64 {
	var n int64
	for _, m := range ix.Models {
		n += m.Size
	}
	return n
}

func (ix modelIndex) find(key string) (int, bool) {
	for i, m := range ix.Models {
		if m.Key == key {
			return i, true
		}
	}
	return -1, false
}

// modelStore keeps models in a fileStore; its methods are safe for
// concurrent use.
type modelStore struct {
	mu sync.Mutex
	fs fileStore
}

func (s *modelStore) readIndex() (modelIndex, error) {
	data, found, err := s.fs.read(modelIndexFile)
	if err != nil || !found {
		return modelIndex{}, err
	}
	var ix modelIndex
	if err := json.Unmarshal(data, &ix); err != nil {
		return modelIndex{}, fmt.Errorf("the index of kept models is damaged (%v)", err)
	}
	return ix, nil
}

func (s *modelStore) writeIndex(ix modelIndex) error {
	data, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return s.fs.write(modelIndexFile, data)
}

// Index returns the kept models.
func (s *modelStore) Index() (modelIndex, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readIndex()
}

// Put keeps a model (replacing one of the same name) and makes it the last
// one in use. The weights are written before the index names them.
func (s *modelStore) Put(name, origin string, weights, config, pre []byte) (storedModel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.readIndex()
	if err != nil {
		return storedModel{}, err
	}
	m := storedModel{Name: name, Origin: origin, Size: int64(len(weights)), Config: config, Preprocessor: pre}
	at := -1
	for i, old := range ix.Models {
		if old.Name == name {
			at, m.Key = i, old.Key
		}
	}
	if at < 0 {
		ix.Next++
		m.Key = "m" + strconv.Itoa(ix.Next)
	}
	if err := s.fs.write(modelWeightsFile+m.Key, weights); err != nil {
		return storedModel{}, err
	}
	if at < 0 {
		ix.Models = append(ix.Models, m)
	} else {
		ix.Models[at] = m
	}
	ix.Last = m.Key
	return m, s.writeIndex(ix)
}

// SetLast records which kept model is in use ("" for none of them).
func (s *modelStore) SetLast(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.readIndex()
	if err != nil || ix.Last == key {
		return err
	}
	ix.Last = key
	return s.writeIndex(ix)
}

// Weights reads a kept model's weights file.
func (s *modelStore) Weights(m storedModel) ([]byte, error) {
	data, found, err := s.fs.read(modelWeightsFile + m.Key)
	if err == nil && !found {
		err = fmt.Errorf("the weights of %s are gone from browser storage", m.Name)
	}
	return data, err
}

// Delete forgets a kept model: the index first, so that it never names a
// missing file.
func (s *modelStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := s.readIndex()
	if err != nil {
		return err
	}
	i, ok := ix.find(key)
	if !ok {
		return fmt.Errorf("no kept model %q", key)
	}
	ix.Models = append(ix.Models[:i], ix.Models[i+1:]...)
	if ix.Last == key {
		ix.Last = ""
	}
	if err := s.writeIndex(ix); err != nil {
		return err
	}
	return s.fs.remove(modelWeightsFile + key)
}

// opfsFiles is the page's OPFS as a fileStore (see storeRead, storeWrite,
// storeDelete).
type opfsFiles struct{}

func (opfsFiles) read(name string) ([]byte, bool, error) { return storeRead(name) }
func (opfsFiles) write(name string, data []byte) error   { return storeWrite(name, data) }
func (opfsFiles) remove(name string) error               { return storeDelete(name) }

// fmtBytes is a size for people.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
