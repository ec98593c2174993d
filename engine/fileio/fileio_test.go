//go:build unix

package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Only regular files within the limit are read; a FIFO, a device or a
// symlink to one is refused at once (a FIFO without a writer would
// otherwise block the open forever, /dev/zero read until memory ran out).
func TestReadFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(good, 10); err != nil || string(b) != "{}" {
		t.Fatalf("regular file: %q, %v", b, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zeroLink := filepath.Join(dir, "zero.safetensors")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}
	goodLink := filepath.Join(dir, "link.json")
	if err := os.Symlink(good, goodLink); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(goodLink, 10); err != nil || string(b) != "{}" {
		t.Fatalf("symlink to a regular file: %q, %v", b, err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "not a regular file (a character device)",
		fifo:        "not a regular file (a named pipe)",
		zeroLink:    "not a regular file (a character device)",
		dir:         "is a directory",
		good:        "over the size limit of 1 B",
	} {
		limit := int64(1 << 20)
		if path == good {
			limit = 1
		}
		start := time.Now()
		_, err := ReadFile(path, limit)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", path, err, want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %v", path, d)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// A failing write leaves the existing file as it was and no temporary
// file; a successful one replaces it.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.png")
	if err := os.WriteFile(path, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteAtomic(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing write: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "original" {
		t.Fatalf("the failed write changed the file to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("file holds %q", b)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x"), func(io.Writer) error { return nil }); err == nil {
		t.Fatal("wrote into a missing directory")
	}
}

// Temporary files of an interrupted WriteAtomic are removed; other files,
// dotfiles included, are not.
func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".loss.svg.tmp-123", ".train.csv.tmp-9", "loss.svg", ".keep", "a.tmp-1"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStaleTemps(dir)
	if err != nil || len(removed) != 2 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 3 {
		t.Fatalf("%d files left, want 3", len(left))
	}
	if r, err := RemoveStaleTemps(filepath.Join(dir, "missing")); err != nil || r != nil {
		t.Fatalf("missing directory: %v, %v", r, err)
	}
}

// An output is refused when it is an input under another spelling: the
// same path, relative vs absolute, through a symlink (of the file or of a
// directory, also for an output that does not exist yet), or a hard link.
func TestCheckDistinct(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(in, []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(in, filepath.Join(dir, "alias.png"))
	os.Symlink(dir, filepath.Join(dir, "dirlink"))
	os.Link(in, filepath.Join(dir, "hard.png"))
	wd, _ := os.Getwd()
	rel, _ := filepath.Rel(wd, in)
	inputs := []Named{{Name: "--image", Path: in}}
	for _, out := range []string{in, rel, filepath.Join(dir, "alias.png"), filepath.Join(dir, "dirlink", "photo.png"),
		filepath.Join(dir, "hard.png"), filepath.Join(dir, ".", "x", "..", "photo.png")} {
		err := CheckDistinct([]Named{{Name: "--out", Path: out}}, inputs)
		if err == nil || !strings.Contains(err.Error(), "refusing to overwrite an input") {
			t.Errorf("--out %s: %v", out, err)
		}
	}
	for _, out := range []string{filepath.Join(dir, "other.png"), filepath.Join(dir, "dirlink", "new", "x.png")} {
		if err := CheckDistinct([]Named{{Name: "--out", Path: out}}, inputs); err != nil {
			t.Errorf("--out %s: %v", out, err)
		}
	}
	sub := filepath.Join(dir, "sub", "deeper")
	for path, want := range map[string]bool{dir: true, sub: true, filepath.Join(dir, "dirlink", "sub"): true, filepath.Dir(dir): false, dir + "x": false} {
		if got, err := IsWithin(path, dir); err != nil || got != want {
			t.Errorf("IsWithin(%s, %s) = %v, %v", path, dir, got, err)
		}
	}
}
