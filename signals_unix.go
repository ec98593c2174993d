//go:build unix

package main

import (
	"os"
	"syscall"
)

// trainSignals end a training run with a checkpoint: Ctrl-C, SIGTERM and
// SIGHUP (a closed terminal).
var trainSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
