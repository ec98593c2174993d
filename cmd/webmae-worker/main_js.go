//go:build js && wasm

// Command webmae-worker is the CPU engine of the page in a Web Worker:
// built with GOOS=js GOARCH=wasm into public/web/webmae-worker.wasm and
// started by public/web/webmae-worker.js, it answers the page's requests
// (internal/workermsg: load a model, reconstruct an image, time a
// reconstruction) with internal/cpuworker, off the page's main thread.
package main

import (
	"fmt"
	"syscall/js"

	"webmae/internal/cpuworker"
	"webmae/internal/workermsg"
)

// queueSize bounds the requests waiting while one runs (the page sends
// one at a time; a flood is answered with errors, not buffered).
const queueSize = 64

func main() {
	engine := cpuworker.New()
	requests := make(chan []byte, queueSize)
	// onMessage copies the transferred ArrayBuffer into Go and queues it:
	// a JavaScript callback must not block, the work runs below.
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		req := bytesOf(args[0])
		select {
		case requests <- req:
		default:
			id, _ := workermsg.ID(req)
			post(workermsg.Message{ID: id, Op: workermsg.OpError, Text: []byte("the CPU worker has too many requests waiting")}.Encode())
		}
		return nil
	})
	js.Global().Call("webmaeWorkerReady", onMessage)
	for req := range requests {
		post(handle(engine, req))
	}
}

// handle answers one request; a panic of the engine becomes an error
// reply (the page would otherwise wait for a reply that never comes).
func handle(engine *cpuworker.Engine, req []byte) (reply []byte) {
	defer func() {
		if r := recover(); r != nil {
			id, _ := workermsg.ID(req)
			reply = workermsg.Message{ID: id, Op: workermsg.OpError, Text: []byte(fmt.Sprintf("the CPU engine failed: %v", r))}.Encode()
		}
	}()
	return engine.Handle(req)
}

// bytesOf copies an ArrayBuffer (anything else gives no bytes, which
// decodes to an error reply).
func bytesOf(v js.Value) []byte {
	if !v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		return nil
	}
	u8 := js.Global().Get("Uint8Array").New(v)
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	return b
}

// post sends one reply, transferring its ArrayBuffer.
func post(reply []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(reply))
	js.CopyBytesToJS(u8, reply)
	buf := u8.Get("buffer")
	js.Global().Call("postMessage", buf, []any{buf})
}
