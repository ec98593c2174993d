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

	"webmae/engine/fileio"
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

// A PreviousStore is a Store that also keeps the checkpoint saved before
// the current one (Save keeps it), so that a damaged current checkpoint
// does not lose the run: Resume and ReadInfo fall back to it.
type PreviousStore interface {
	Store
	// LoadPrevious returns the previous checkpoint; found is false when
	// none is.
	LoadPrevious() (data []byte, found bool, err error)
	// SetAside moves a damaged current checkpoint out of the way (kept for
	// inspection), so that the next Save does not make it the previous one.
	SetAside() error
	// PreviousString says where the previous checkpoint is, for messages.
	PreviousString() string
}

// Checkpoint files in a run's output directory besides CheckpointFileName:
// the one saved before it, and a damaged newest one set aside by Resume.
const (
	PrevCheckpointFileName    = "checkpoint.prev.safetensors"
	DamagedCheckpointFileName = "checkpoint.damaged.safetensors"
)

// DirStore keeps the checkpoint as CheckpointFileName in directory Dir,
// the one before it as PrevCheckpointFileName, and exports the model, its
// configs and the reports beside them.
type DirStore struct{ Dir string }

func (s DirStore) path() string { return filepath.Join(s.Dir, CheckpointFileName) }

// Load implements Store: a regular file of at most
// model.MaxSafetensorsFileSize.
func (s DirStore) Load() ([]byte, bool, error) { return loadFile(s.path()) }

// LoadPrevious implements PreviousStore.
func (s DirStore) LoadPrevious() ([]byte, bool, error) {
	return loadFile(filepath.Join(s.Dir, PrevCheckpointFileName))
}

func loadFile(path string) ([]byte, bool, error) {
	data, err := fileio.ReadFile(path, model.MaxSafetensorsFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	return data, true, nil
}

// Save implements Store (fileio.WriteAtomic), creating Dir; the current
// checkpoint becomes the previous one first.
func (s DirStore) Save(data []byte) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	if err := keepPrevious(s.Dir); err != nil {
		return err
	}
	return fileio.WriteAtomic(s.path(), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// keepPrevious makes the current checkpoint of dir, if any, the previous
// one before a new one is written: a hard link (so that a checkpoint stays
// under CheckpointFileName throughout), or a rename where links are not
// supported.
func keepPrevious(dir string) error {
	cur := filepath.Join(dir, CheckpointFileName)
	prev := filepath.Join(dir, PrevCheckpointFileName)
	if _, err := os.Lstat(cur); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	tmp := filepath.Join(dir, "."+PrevCheckpointFileName+".tmp-link")
	os.Remove(tmp)
	if err := os.Link(cur, tmp); err == nil {
		if err := os.Rename(tmp, prev); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("keep the previous checkpoint: %w", err)
		}
	} else if err := os.Rename(cur, prev); err != nil {
		return fmt.Errorf("keep the previous checkpoint: %w", err)
	}
	return fileio.SyncDir(dir)
}

// SetAside implements PreviousStore: the current checkpoint is renamed
// DamagedCheckpointFileName.
func (s DirStore) SetAside() error {
	err := os.Rename(s.path(), filepath.Join(s.Dir, DamagedCheckpointFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return fileio.SyncDir(s.Dir)
}

// Remove implements Store, deleting the previous checkpoint too.
func (s DirStore) Remove() error {
	for _, name := range []string{CheckpointFileName, PrevCheckpointFileName} {
		if err := os.Remove(filepath.Join(s.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

func (s DirStore) PreviousString() string { return filepath.Join(s.Dir, PrevCheckpointFileName) }

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
