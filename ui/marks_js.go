//go:build js && wasm

package ui

import (
	"sync"
	"syscall/js"
)

// mark records a User Timing mark "webmae:<name>" (performance.mark), so
// that start-up milestones (engine ready, model loaded, pipelines
// compiled, first reconstruction drawn) can be read by the page's
// developer tools and e2e/bench-first-recon.mjs. Each name is marked once.
func mark(name string) {
	marksMu.Lock()
	done := markedOnce[name]
	markedOnce[name] = true
	marksMu.Unlock()
	if done {
		return
	}
	perf := js.Global().Get("performance")
	if perf.Truthy() && perf.Get("mark").Truthy() {
		perf.Call("mark", "webmae:"+name)
	}
}

var (
	marksMu    sync.Mutex
	markedOnce = map[string]bool{}
)
