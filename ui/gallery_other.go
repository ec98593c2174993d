//go:build !(js && wasm)

package ui

// Outside the browser there is no window to scroll and no object URL.

func revealPanels() {}

func releaseThumb(string) {}
