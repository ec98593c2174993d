//go:build !(js && wasm)

package ui

// awaitPaint has nothing to wait for outside the browser (see paint_js.go).
func awaitPaint() {}
