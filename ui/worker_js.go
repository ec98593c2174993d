//go:build js && wasm

package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"webmae/engine/backend"
	"webmae/engine/bench"
	"webmae/internal/jsutil"
	"webmae/internal/workermsg"
)

// cpuWorkerScript starts the CPU engine's worker (public/web/, cached by
// the service worker with webmae-worker.wasm).
const cpuWorkerScript = "/web/webmae-worker.js"

// workerWanted reports whether the CPU backend computes reconstructions
// in the worker: always, unless the URL says ?worker=0 (to compare with
// computing in the page).
func workerWanted() bool {
	u, err := url.Parse(js.Global().Get("location").Get("href").String())
	return err != nil || u.Query().Get("worker") != "0"
}

// startWorkerFor starts the worker for the page's CPU backend; nil for
// the WebGPU backend, with ?worker=0, or when no worker can be created
// (the page then computes in the page, as it says on its status line).
func startWorkerFor(k backend.Kernels) *workerRecon {
	if _, cpu := k.(*yielding); !cpu || !workerWanted() {
		return nil
	}
	w, err := startCPUWorker()
	if err != nil {
		js.Global().Get("console").Call("warn", "webmae: "+err.Error())
		return nil
	}
	return &workerRecon{w: w}
}

// cpuWorker is the page's side of the worker: requests are numbered,
// their replies (matched by id) settle one promise each.
type cpuWorker struct {
	worker js.Value
	mu     sync.Mutex
	nextID uint32
	// pending holds each waiting request's Promise.withResolvers() object.
	pending            map[uint32]js.Value
	failed             error // set once the worker reported an error: every call fails
	onMessage, onError js.Func
}

func startCPUWorker() (*cpuWorker, error) {
	c := &cpuWorker{pending: map[uint32]js.Value{}}
	if err := jsutil.Try(func() { c.worker = js.Global().Get("Worker").New(cpuWorkerScript) }); err != nil {
		return nil, fmt.Errorf("start the CPU worker: %w", err)
	}
	c.onMessage = js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.settle(args[0].Get("data"))
		return nil
	})
	c.onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "the CPU worker stopped"
		if m := args[0].Get("message"); m.Type() == js.TypeString && m.String() != "" {
			msg = strings.TrimPrefix(m.String(), "Uncaught Error: ")
		}
		args[0].Call("preventDefault") // reported by the page, not as an uncaught error
		c.fail(errors.New(msg))
		return nil
	})
	c.worker.Call("addEventListener", "message", c.onMessage)
	c.worker.Call("addEventListener", "error", c.onError)
	return c, nil
}

// settle resolves the request a reply answers (it runs in the message
// event: it only reads the id and hands the buffer on).
func (c *cpuWorker) settle(data js.Value) {
	if !data.InstanceOf(js.Global().Get("ArrayBuffer")) || data.Get("byteLength").Int() < 9 {
		return
	}
	head := make([]byte, 9)
	js.CopyBytesToGo(head, js.Global().Get("Uint8Array").New(data, 0, 9))
	id, ok := workermsg.ID(head)
	if !ok {
		return
	}
	c.mu.Lock()
	p, found := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if found {
		p.Call("resolve", data)
	}
}

// fail rejects every waiting request and every later one.
func (c *cpuWorker) fail(err error) {
	c.mu.Lock()
	c.failed = err
	pending := c.pending
	c.pending = map[uint32]js.Value{}
	c.mu.Unlock()
	for _, p := range pending {
		p.Call("reject", js.Global().Get("Error").New(err.Error()))
	}
	c.worker.Call("terminate")
}

// close stops the worker and releases the page's callbacks (nothing may
// be waiting).
func (c *cpuWorker) close() {
	c.worker.Call("terminate")
	c.onMessage.Release()
	c.onError.Release()
}

// call sends req (its buffer transferred) and awaits the reply.
func (c *cpuWorker) call(req workermsg.Message) (workermsg.Message, error) {
	c.mu.Lock()
	if c.failed != nil {
		c.mu.Unlock()
		return workermsg.Message{}, &workerGone{err: c.failed}
	}
	c.nextID++
	req.ID = c.nextID
	p := js.Global().Get("Promise").Call("withResolvers")
	c.pending[req.ID] = p
	c.mu.Unlock()

	b := req.Encode()
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	buf := u8.Get("buffer")
	if err := jsutil.Try(func() { c.worker.Call("postMessage", buf, []any{buf}) }); err != nil {
		c.fail(fmt.Errorf("send: %w", err))
		return workermsg.Message{}, &workerGone{err: err}
	}
	v, err := jsutil.Await(context.Background(), p.Get("promise"))
	if err != nil {
		return workermsg.Message{}, &workerGone{err: err}
	}
	u8 = js.Global().Get("Uint8Array").New(v)
	reply := make([]byte, u8.Length())
	js.CopyBytesToGo(reply, u8)
	return replyOf(reply)
}

// benchWorkerRecon times a one-image reconstruction in a CPU worker of its
// own (OpBench), which is stopped afterwards.
func benchWorkerRecon(cfgJSON []byte, preset string, minTimeMs int) (bench.Result, error) {
	c, err := startCPUWorker()
	if err != nil {
		return bench.Result{}, err
	}
	defer c.close()
	args, err := json.Marshal(workermsg.BenchArgs{Config: cfgJSON, Preset: preset, MinReps: 3, MinTimeMs: minTimeMs})
	if err != nil {
		return bench.Result{}, err
	}
	reply, err := c.call(workermsg.Message{Op: workermsg.OpBench, Text: args})
	if err != nil {
		return bench.Result{}, err
	}
	var r bench.Result
	if err := json.Unmarshal(reply.Text, &r); err != nil {
		return bench.Result{}, fmt.Errorf("the CPU worker's bench result: %w", err)
	}
	r.Backend = "webmae CPU worker (Go wasm, " + r.Backend + ")"
	return r, nil
}

// yieldToPage gives the browser's event loop a turn (the goroutine
// sleeps, Go's scheduler returns to JavaScript): between the page's steps
// of a reconstruction, so that input and painting are never held up long.
func yieldToPage() { time.Sleep(time.Millisecond) }
