//go:build js && wasm

package ui

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"syscall/js"
)

// panelsPNG draws the canvases ids side by side at their display size
// (CSS pixels), gap white pixels apart, into one PNG; it returns the PNG
// and its width and height.
func panelsPNG(ids []string, gap int) (png []byte, w, h int, err error) {
	doc := js.Global().Get("document")
	var els []js.Value
	for _, id := range ids {
		el := doc.Call("getElementById", id)
		if !el.Truthy() {
			return nil, 0, 0, fmt.Errorf("save panels: no canvas #%s", id)
		}
		els = append(els, el)
	}
	rect := els[0].Call("getBoundingClientRect")
	pw, ph := int(math.Round(rect.Get("width").Float())), int(math.Round(rect.Get("height").Float()))
	if pw < 1 || ph < 1 {
		return nil, 0, 0, fmt.Errorf("save panels: the panels are not displayed (%dx%d)", pw, ph)
	}
	w, h = len(els)*pw+(len(els)-1)*gap, ph
	var dataURL string
	if err := try(func() {
		out := doc.Call("createElement", "canvas")
		out.Set("width", w)
		out.Set("height", h)
		ctx := out.Call("getContext", "2d")
		ctx.Set("fillStyle", "#ffffff")
		ctx.Call("fillRect", 0, 0, w, h)
		ctx.Set("imageSmoothingEnabled", false) // the panels are shown pixelated
		for i, el := range els {
			ctx.Call("drawImage", el, i*(pw+gap), 0, pw, ph)
		}
		dataURL = out.Call("toDataURL", "image/png").String()
	}); err != nil {
		return nil, 0, 0, fmt.Errorf("save panels: %w", err)
	}
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(dataURL, prefix) {
		return nil, 0, 0, fmt.Errorf("save panels: the browser did not encode a PNG")
	}
	png, err = base64.StdEncoding.DecodeString(dataURL[len(prefix):])
	if err != nil {
		return nil, 0, 0, fmt.Errorf("save panels: %w", err)
	}
	return png, w, h, nil
}
