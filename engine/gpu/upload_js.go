//go:build js

package gpu

import (
	"fmt"
	"syscall/js"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/internal/jsutil"
)

// uploadChunk is the largest writeBuffer, bytes: larger writes (the base
// model's 448 MB of parameters) go in chunks through one staging array.
const uploadChunk = 16 << 20

// writeBuffer copies data into buf at byte offset off. The binding's
// Queue.WriteBuffer reads the wasm memory through a global named `wasm`,
// which only its own loader defines (go-app's does not): the bytes are
// copied into a JavaScript Uint8Array instead.
func (b *Backend) writeBuffer(buf *wgpu.Buffer, off uint64, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = fmt.Errorf("writeBuffer: %s", jsutil.ErrorOf(je.Value).Message)
				return
			}
			panic(r)
		}
	}()
	d := b.dev
	dst := jsOf(buf)
	for len(data) > 0 {
		n := min(len(data), uploadChunk)
		if d.upload.IsUndefined() || d.upload.Length() < n {
			size := n
			if n < uploadChunk {
				size = max(n, 1<<16)
			}
			d.upload = js.Global().Get("Uint8Array").New(size)
		}
		js.CopyBytesToJS(d.upload, data[:n])
		d.queue.Call("writeBuffer", dst, off, d.upload, 0, n)
		data, off = data[n:], off+uint64(n)
	}
	return nil
}

// toJS copies b into *dst (a Uint8Array, grown as needed).
func toJS(dst *js.Value, b []byte) {
	if dst.IsUndefined() || dst.Length() < len(b) {
		*dst = js.Global().Get("Uint8Array").New(max(len(b), 1<<16, 2*lenJS(*dst)))
	}
	js.CopyBytesToJS(*dst, b)
}

func lenJS(v js.Value) int {
	if v.IsUndefined() {
		return 0
	}
	return v.Length()
}
