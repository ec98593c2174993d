package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"webmae/engine/model"
)

// A Store keeps a run's checkpoint (one safetensors file, the same bytes
// wherever it is kept): DirStore writes files in an output directory, the
// page keeps it in the browser's storage (package ui), MemStore in memory.
type Store interface {
	// Load returns the saved checkpoint; found is false when none is.
	Load() (data []byte, found bool, err error)
	// Save replaces the checkpoint, atomically: a reader sees the old or
	// the new one, never a part.
	Save(data []byte) error
	// Remove deletes the checkpoint (no error when there is none).
	Remove() error
	// String says where the checkpoint is, for messages.
	String() string
}

// An Exporter is a Store that also keeps the run's outputs: Export is
// called after each checkpoint (final: after the last step).
type Exporter interface {
	Export(t *Trainer, final bool) error
}

// DirStore keeps the checkpoint as CheckpointFileName in directory Dir,
// and exports the model, its configs and the reports beside it.
type DirStore struct{ Dir string }

func (s DirStore) path() string { return filepath.Join(s.Dir, CheckpointFileName) }

// Load implements Store, refusing files over model.MaxSafetensorsFileSize.
func (s DirStore) Load() ([]byte, bool, error) {
	fi, err := os.Stat(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	if fi.IsDir() || fi.Size() > model.MaxSafetensorsFileSize {
		return nil, false, fmt.Errorf("checkpoint %s: a directory or over %d GiB", s.path(), model.MaxSafetensorsFileSize>>30)
	}
	data, err := os.ReadFile(s.path())
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	return data, true, nil
}

// Save implements Store (model.WriteFileAtomic), creating Dir.
func (s DirStore) Save(data []byte) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	return model.WriteFileAtomic(s.path(), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Remove implements Store.
func (s DirStore) Remove() error {
	if err := os.Remove(s.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func (s DirStore) String() string { return s.Dir }

// Export implements Exporter: model.safetensors, config.json,
// preprocessor_config.json, train.csv, the loss-curve SVG and, after the
// last step of an evaluated run, quality.json.
func (s DirStore) Export(t *Trainer, final bool) error {
	if err := t.writeExports(s.Dir); err != nil {
		return err
	}
	if final && t.Eval != nil {
		return t.writeQuality(s.Dir)
	}
	return nil
}

// MemStore keeps the checkpoint in memory (a copy of the bytes); the zero
// value is empty and ready.
type MemStore struct {
	mu   sync.Mutex
	data []byte
}

// Load implements Store.
func (s *MemStore) Load() ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.data), s.data != nil, nil
}

// Save implements Store.
func (s *MemStore) Save(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = bytes.Clone(data)
	if s.data == nil {
		s.data = []byte{}
	}
	return nil
}

// Remove implements Store.
func (s *MemStore) Remove() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data = nil
	return nil
}

func (s *MemStore) String() string { return "memory" }
