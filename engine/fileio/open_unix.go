//go:build unix

package fileio

import (
	"errors"
	"os"
	"syscall"
)

// openFlags makes opening a FIFO return at once instead of waiting for a
// writer (OpenRegular refuses it after the open's stat).
const openFlags = syscall.O_NONBLOCK

// clearNonblock puts a regular file back in blocking mode for reading.
func clearNonblock(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}

func ignorableSyncError(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
