//go:build !(js && wasm)

package ui

// mark is a no-op outside the browser (see marks_js.go).
func mark(string) {}
