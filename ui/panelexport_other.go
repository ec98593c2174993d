//go:build !(js && wasm)

package ui

// panelsPNG needs the browser's canvases (see panelexport_js.go).
func panelsPNG([]string, int) ([]byte, int, int, error) { return nil, 0, 0, errNoBrowser }
