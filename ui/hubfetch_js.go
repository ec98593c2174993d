//go:build js && wasm

package ui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"syscall/js"

	"webmae/internal/jsutil"
)

// fetchJob is one cancellable model download (fetch with an
// AbortController).
type fetchJob struct{ ctrl js.Value }

func newFetchJob() *fetchJob { return &fetchJob{ctrl: js.Global().Get("AbortController").New()} }

// cancel aborts the fetch in progress; it may be called from any goroutine
// or event handler.
func (d *fetchJob) cancel() { d.ctrl.Call("abort") }

// get fetches url, following redirects, and reads the body whole,
// reporting progress (total 0 when unknown). A 404 gives found == false.
// Files over limit bytes are refused before they are read.
func (d *fetchJob) get(url string, limit int64, progress func(done, total int64)) (data []byte, found bool, err error) {
	resp, err := await(js.Global().Call("fetch", url, map[string]any{"signal": d.ctrl.Get("signal"), "redirect": "follow"}))
	if err != nil {
		return nil, false, d.fetchError(url, err)
	}
	status := resp.Get("status").Int()
	switch {
	case status == 404:
		return nil, false, nil
	case !resp.Get("ok").Bool():
		return nil, false, fmt.Errorf("%s answered HTTP %d", url, status)
	}
	total, _ := strconv.ParseInt(resp.Get("headers").Call("get", "Content-Length").String(), 10, 64)
	if total > limit {
		return nil, false, fmt.Errorf("%s is %s, over the %s limit", url, fmtBytes(total), fmtBytes(limit))
	}
	data = make([]byte, 0, max(total, 0))
	reader := resp.Get("body").Call("getReader")
	for {
		chunk, err := await(reader.Call("read"))
		if err != nil {
			if d.aborted() {
				return nil, false, errCancelled
			}
			return nil, false, fmt.Errorf("the connection dropped after %s of %s (%v)", fmtBytes(int64(len(data))), url, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		v := chunk.Get("value")
		n := v.Get("length").Int()
		if int64(len(data)+n) > limit {
			d.cancel()
			return nil, false, fmt.Errorf("%s is over the %s limit", url, fmtBytes(limit))
		}
		start := len(data)
		data = slices.Grow(data, n)[:start+n]
		js.CopyBytesToGo(data[start:], v)
		if progress != nil {
			progress(int64(len(data)), total)
		}
	}
	if total > 0 && int64(len(data)) != total {
		return nil, false, fmt.Errorf("the connection dropped after %s of the %s of %s", fmtBytes(int64(len(data))), fmtBytes(total), url)
	}
	return data, true, nil
}

func (d *fetchJob) aborted() bool { return d.ctrl.Get("signal").Get("aborted").Bool() }

// fetchError explains a fetch that got no answer at all.
func (d *fetchJob) fetchError(url string, err error) error {
	switch {
	case d.aborted():
		return errCancelled
	case !js.Global().Get("navigator").Get("onLine").Bool():
		return fmt.Errorf("this browser is offline: %s cannot be fetched", url)
	}
	var je *jsutil.Error
	if errors.As(err, &je) && je.Name == "TypeError" {
		return fmt.Errorf("%s got no answer: the server is unreachable or does not allow this page to read it (CORS)", url)
	}
	return fmt.Errorf("fetch %s: %w", url, err)
}

// pageURL is the address of the page.
func pageURL() string { return js.Global().Get("location").Get("href").String() }
