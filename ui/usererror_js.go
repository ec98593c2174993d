//go:build js && wasm

package ui

import (
	"errors"
	"syscall/js"

	"webmae/internal/jsutil"
)

// consoleWarn writes msg to the browser console as a warning.
func consoleWarn(msg string) { js.Global().Get("console").Call("warn", msg) }

// isQuotaExceeded says whether err is the browser's "storage full".
func isQuotaExceeded(err error) bool {
	var je *jsutil.Error
	return errors.As(err, &je) && je.Name == "QuotaExceededError"
}
