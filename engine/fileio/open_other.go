//go:build !unix

package fileio

import "os"

// openFlags: without O_NONBLOCK, OpenRegular relies on the stat before
// opening to refuse FIFOs.
const openFlags = 0

func clearNonblock(*os.File) error { return nil }

func ignorableSyncError(error) bool { return true }
