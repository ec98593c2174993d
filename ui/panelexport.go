package ui

import (
	"strconv"
	"strings"
)

// panelsGap is the white gap between the panels of the saved PNG, in CSS
// pixels.
const panelsGap = 8

// panelsFileName names the PNG of the four panels: the picture (a bundled
// sample's name, or an upload's file name without its extension, reduced
// to lower-case letters, digits and dashes), the masking ratio (to three
// decimals, trailing zeros dropped) and the masked-patch MSE, e.g.
// webmae-chelsea-ratio0.75-mse0.2225.png.
func panelsFileName(picKey, picName string, ratio, mse float64) string {
	name := picName
	if rest, ok := strings.CutPrefix(picKey, "sample-"); ok {
		name = rest
	} else if dot := strings.LastIndexByte(name, '.'); dot > 0 {
		name = name[:dot]
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	slug := b.String()
	if slug == "" {
		slug = "image"
	}
	r := strconv.FormatFloat(ratio, 'f', 3, 64)
	r = strings.TrimRight(strings.TrimRight(r, "0"), ".")
	return "webmae-" + slug + "-ratio" + r + "-mse" + strconv.FormatFloat(mse, 'f', 4, 64) + ".png"
}
