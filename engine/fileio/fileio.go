// Package fileio reads inputs and writes outputs safely: inputs must be
// regular files and are read through a size limit (a FIFO, a device or a
// symlink to one is refused without blocking), outputs are written
// atomically (temporary file in the same directory, fsync, rename, fsync
// of the directory), and an output that resolves to an input is refused.
package fileio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// OpenRegular opens path for reading. It refuses anything that is not a
// regular file after following symlinks (checked before opening, so a
// FIFO never blocks, and again on the open file) and files over limit
// bytes. The caller closes the file; size is its length.
func OpenRegular(path string, limit int64) (f *os.File, size int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := checkRegular(path, fi, limit); err != nil {
		return nil, 0, err
	}
	f, err = os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, 0, err
	}
	fi2, err := f.Stat()
	if err == nil && !os.SameFile(fi, fi2) {
		err = fmt.Errorf("%s changed while being opened", path)
	}
	if err == nil {
		err = checkRegular(path, fi2, limit)
	}
	if err == nil {
		err = clearNonblock(f)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi2.Size(), nil
}

// ErrTooLarge is wrapped by the errors of inputs over their size limit.
var ErrTooLarge = errors.New("over the size limit")

func checkRegular(path string, fi os.FileInfo, limit int64) error {
	switch {
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a file", path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s)", path, describeMode(fi.Mode()))
	case fi.Size() > limit:
		return fmt.Errorf("%s is %s, %w of %s for this input", path, FormatBytes(fi.Size()), ErrTooLarge, FormatBytes(limit))
	}
	return nil
}

func describeMode(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

// ReadFile reads a regular file of at most limit bytes (see OpenRegular).
// A file that grows past limit while being read is refused too.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, size, err := OpenRegular(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, 0, size+1)
	buf := bytesWriter{&data}
	n, err := io.Copy(buf, io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%s grew while being read: %w of %s for this input", path, ErrTooLarge, FormatBytes(limit))
	}
	return data, nil
}

type bytesWriter struct{ b *[]byte }

func (w bytesWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

// FormatBytes writes a byte count with a binary unit (12 B, 3.5 KiB, 2 GiB).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.4g %ciB", v, "KMGTPE"[i])
}

// tempInfix marks WriteAtomic's temporary files: ".NAME.tmp-RANDOM".
const tempInfix = ".tmp-"

// WriteAtomic writes path through a temporary file in the same directory
// (named ".NAME.tmp-*"), buffered, synced and renamed over path only once
// complete; the directory is synced after the rename so that the new name
// survives a crash. On any error path is untouched and the temporary file
// removed.
func WriteAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir flushes a directory's entries (a rename in it) to disk. File
// systems that cannot sync a directory (EINVAL) are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !ignorableSyncError(err) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// RemoveStaleTemps deletes WriteAtomic's temporary files (".NAME.tmp-*")
// left in dir by a process that was killed mid-write, and returns their
// names. A missing dir has none.
func RemoveStaleTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, ".") || !strings.Contains(name, tempInfix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("remove stale %s: %w", name, err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}
