//go:build !(js && wasm)

package ui

import "log"

// consoleWarn logs msg (outside the browser there is no console).
func consoleWarn(msg string) { log.Print(msg) }

// isQuotaExceeded: outside the browser there is no browser storage.
func isQuotaExceeded(error) bool { return false }
