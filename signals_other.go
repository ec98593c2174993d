//go:build !unix

package main

import (
	"os"
	"syscall"
)

// trainSignals end a training run with a checkpoint (no SIGHUP here).
var trainSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
