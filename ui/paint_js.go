//go:build js && wasm

package ui

import (
	"sync"
	"syscall/js"
)

// awaitPaint returns once the browser has had the chance to paint (the
// task after the next animation frame), or after 50 ms when no frame
// comes (a hidden tab): work that blocks the page's thread afterwards
// (a reconstruction on the CPU backend) then starts with the busy
// overlay on screen.
func awaitPaint() {
	done := make(chan struct{})
	var once sync.Once
	calls := 0
	var cb, frame js.Func
	cb = js.FuncOf(func(js.Value, []js.Value) any {
		once.Do(func() { close(done) })
		if calls++; calls == 2 { // both the frame's and the time-out's
			cb.Release()
		}
		return nil
	})
	frame = js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Call("setTimeout", cb, 0)
		frame.Release()
		return nil
	})
	js.Global().Call("requestAnimationFrame", frame)
	js.Global().Call("setTimeout", cb, 50)
	<-done
}
