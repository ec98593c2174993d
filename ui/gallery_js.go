//go:build js && wasm

package ui

import "syscall/js"

// revealPanels scrolls the reconstruction panels into view, smoothly, when
// they are not wholly in the window (on a phone the gallery is below
// them).
func revealPanels() {
	doc := js.Global().Get("document")
	el := doc.Call("querySelector", ".panels")
	if !el.Truthy() {
		return
	}
	r := el.Call("getBoundingClientRect")
	if r.Get("top").Float() >= 0 && r.Get("bottom").Float() <= js.Global().Get("innerHeight").Float() {
		return
	}
	el.Call("scrollIntoView", map[string]any{"behavior": "smooth", "block": "start"})
}

// releaseThumb frees the object URL of an upload's thumbnail.
func releaseThumb(url string) {
	if len(url) > 5 && url[:5] == "blob:" {
		js.Global().Get("URL").Call("revokeObjectURL", url)
	}
}
