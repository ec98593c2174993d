package fileio

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Named is a path with the flag or role that named it, for error messages.
type Named struct{ Name, Path string }

// CheckDistinct refuses an output that is one of the inputs: the same
// absolute path after resolving symlinks (of the output's directory when
// the output does not exist yet), or the same file (os.SameFile, which
// also catches hard links). An input that does not exist is skipped.
func CheckDistinct(outputs, inputs []Named) error {
	for _, out := range outputs {
		for _, in := range inputs {
			if out.Path == "" || in.Path == "" {
				continue
			}
			same, err := SamePath(out.Path, in.Path)
			if err != nil {
				return err
			}
			if same {
				return fmt.Errorf("%s %s is the same file as %s %s: refusing to overwrite an input", out.Name, out.Path, in.Name, in.Path)
			}
		}
	}
	return nil
}

// SamePath reports whether a and b name the same file or directory.
func SamePath(a, b string) (bool, error) {
	ra, err := resolve(a)
	if err != nil {
		return false, err
	}
	rb, err := resolve(b)
	if err != nil {
		return false, err
	}
	if ra == rb {
		return true, nil
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb), nil
	}
	return false, nil
}

// IsWithin reports whether path is dir or lies below it, after resolving
// symlinks.
func IsWithin(path, dir string) (bool, error) {
	rp, err := resolve(path)
	if err != nil {
		return false, err
	}
	rd, err := resolve(dir)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(rd, rp)
	if err != nil {
		return false, nil
	}
	return rel == "." || (rel != ".." && !filepath.IsAbs(rel) && !startsWithDotDot(rel)), nil
}

func startsWithDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:2] == ".." && os.IsPathSeparator(rel[2])
}

// resolve returns the absolute path with symlinks resolved; for a path
// that does not exist, its nearest existing ancestor is resolved and the
// rest appended.
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	rest := ""
	for cur := abs; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
