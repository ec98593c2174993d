package ui

// patchKey is what a key pressed on the masked view does with the focused
// patch focus of a g x g grid: the arrows (and Home/End, to the first and
// last patch) move the focus, stopping at the edges; space and Enter
// toggle the patch. handled is false for any other key.
func patchKey(key string, focus, g int) (next int, toggle, handled bool) {
	row, col := focus/g, focus%g
	switch key {
	case "ArrowLeft":
		col = max(col-1, 0)
	case "ArrowRight":
		col = min(col+1, g-1)
	case "ArrowUp":
		row = max(row-1, 0)
	case "ArrowDown":
		row = min(row+1, g-1)
	case "Home":
		row, col = 0, 0
	case "End":
		row, col = g-1, g-1
	case " ", "Enter":
		return focus, true, true
	default:
		return focus, false, false
	}
	return row*g + col, false, true
}
