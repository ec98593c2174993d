//go:build js && wasm

package offline

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"syscall/js"

	"webmae/internal/jsutil"
)

// Keep asks the site's service worker to cache urls (site paths such as
// /web/reference/x.json, each one the worker caches on request) and waits
// for its answer: the number of files it fetched (0 when it held them
// all). It waits for the worker to be active, so on a first visit it
// returns once the worker has installed. It blocks: call it from a
// goroutine, never from a JavaScript callback.
func Keep(urls []string) (int, error) {
	sw := js.Global().Get("navigator").Get("serviceWorker")
	if !sw.Truthy() {
		return 0, ErrNoServiceWorker
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	reg, err := jsutil.Await(ctx, sw.Get("ready"))
	if err != nil {
		return 0, fmt.Errorf("wait for the service worker: %w", err)
	}
	active := reg.Get("active")
	if !active.Truthy() {
		return 0, ErrNoServiceWorker
	}
	list := make([]any, len(urls))
	for i, u := range urls {
		list[i] = u
	}
	var answer js.Value
	err = jsutil.Try(func() {
		channel := js.Global().Get("MessageChannel").New()
		// The worker answers on port1; the executor runs within New.
		executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
			resolve := args[0]
			var onMessage js.Func
			onMessage = js.FuncOf(func(_ js.Value, ev []js.Value) any {
				onMessage.Release()
				resolve.Invoke(ev[0].Get("data"))
				return nil
			})
			channel.Get("port1").Set("onmessage", onMessage)
			return nil
		})
		answer = js.Global().Get("Promise").New(executor)
		executor.Release()
		msg := map[string]any{"type": "keep", "urls": list}
		active.Call("postMessage", msg, []any{channel.Get("port2")})
	})
	if err != nil {
		return 0, fmt.Errorf("ask the service worker to keep %d files: %w", len(urls), err)
	}
	data, err := jsutil.Await(ctx, answer)
	if err != nil {
		return 0, fmt.Errorf("service worker's answer: %w", err)
	}
	if e := data.Get("error"); e.Type() == js.TypeString {
		return 0, fmt.Errorf("service worker: %s", e.String())
	}
	kept := data.Get("kept")
	if kept.Type() != js.TypeNumber {
		return 0, fmt.Errorf("service worker: an answer without the number of files kept")
	}
	return kept.Int(), nil
}

// Loaded lists the site paths under prefix (/web/vendor/) of every file
// this page has loaded so far, scripts and fetches alike, as the
// browser's Resource Timing records them: what a library fetched by
// itself (TensorFlow.js's wasm binaries) included.
func Loaded(prefix string) []string {
	var out []string
	entries := js.Global().Get("performance").Call("getEntriesByType", "resource")
	origin := js.Global().Get("location").Get("origin").String()
	for i := range entries.Length() {
		u, err := url.Parse(entries.Index(i).Get("name").String())
		if err != nil || u.Scheme+"://"+u.Host != origin || !strings.HasPrefix(u.Path, prefix) {
			continue
		}
		if !slices.Contains(out, u.Path) {
			out = append(out, u.Path)
		}
	}
	return out
}
