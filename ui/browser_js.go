//go:build js && wasm

package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall/js"

	"github.com/gowebapi/webapi/html/canvas"
	"github.com/gowebapi/webapi/patch"

	"webmae/engine/recon"
	"webmae/internal/jsutil"
)

// This file is the page's only direct use of browser APIs. Functions that
// wait on a promise (await) block their goroutine: call them from a
// goroutine of their own (ctx.Async), never from inside a JS callback.

// await waits for a promise to settle (see jsutil.Await).
func await(promise js.Value) (js.Value, error) {
	return jsutil.Await(context.Background(), promise)
}

// try calls fn, turning a thrown JavaScript exception into an error.
func try(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = jsutil.ErrorOf(je.Value)
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

func bytesToJS(b []byte) js.Value {
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	return arr
}

func bytesFromJS(arr js.Value) []byte {
	b := make([]byte, arr.Get("length").Int())
	js.CopyBytesToGo(b, arr)
	return b
}

// drawRGBA shows RGBA pixels on the canvas with the given id, sizing its
// bitmap to w x h (CSS scales it up).
func drawRGBA(id string, w, h int, rgba []byte) error {
	el := js.Global().Get("document").Call("getElementById", id)
	if !el.Truthy() {
		return fmt.Errorf("draw: no canvas #%s", id)
	}
	if len(rgba) != 4*w*h {
		return fmt.Errorf("draw #%s: %d bytes for %dx%d", id, len(rgba), w, h)
	}
	c := canvas.HTMLCanvasElementFromJS(el)
	if c.Width() != uint(w) || c.Height() != uint(h) {
		c.SetWidth(uint(w))
		c.SetHeight(uint(h))
	}
	ctx := c.GetContext("2d", nil)
	if ctx == nil {
		return fmt.Errorf("draw #%s: no 2-D context", id)
	}
	data := js.Global().Get("Uint8ClampedArray").New(len(rgba))
	js.CopyBytesToJS(data, rgba)
	hh := uint(h)
	img := canvas.NewImageData(patch.Uint8ClampedArrayFromJS(data), uint(w), &hh)
	canvas.CanvasRenderingContext2DFromJS(ctx.JSValue()).PutImageData(img, 0, 0)
	return nil
}

// decodeBlob decodes an image File or Blob in the browser
// (createImageBitmap, then a canvas) into RGB pixels. Images larger than
// MaxImageSide are downscaled; the note says so.
func decodeBlob(name string, blob js.Value) (recon.Pixels, string, error) {
	size, typ := blob.Get("size").Int(), blob.Get("type").String()
	if size > MaxImageBytes {
		return recon.Pixels{}, "", &imageError{Name: name, Problem: imageTooLarge, Type: typ, Size: size}
	}
	if typ != "" && !strings.HasPrefix(typ, "image/") {
		return recon.Pixels{}, "", &imageError{Name: name, Problem: imageNotImage, Type: typ, Size: size}
	}
	if size == 0 {
		return recon.Pixels{}, "", &imageError{Name: name, Problem: imageEmpty, Type: typ}
	}
	bmp, err := await(js.Global().Call("createImageBitmap", blob))
	if err != nil {
		return recon.Pixels{}, "", &imageError{Name: name, Problem: imageUndecodable, Type: typ, Size: size, Err: err}
	}
	w, h := bmp.Get("width").Int(), bmp.Get("height").Int()
	var note string
	if w > MaxImageSide || h > MaxImageSide {
		nw, nh := MaxImageSide, MaxImageSide
		if w > h {
			nh = max(1, h*MaxImageSide/w)
		} else {
			nw = max(1, w*MaxImageSide/h)
		}
		bmp.Call("close")
		opts := map[string]any{"resizeWidth": nw, "resizeHeight": nh, "resizeQuality": "high"}
		if bmp, err = await(js.Global().Call("createImageBitmap", blob, opts)); err != nil {
			return recon.Pixels{}, "", fmt.Errorf("%s (%dx%d) could not be downscaled (%v)", name, w, h, err)
		}
		note = fmt.Sprintf("downscaled from %dx%d to %dx%d", w, h, nw, nh)
		w, h = nw, nh
	}
	defer bmp.Call("close")
	var rgba []byte
	err = try(func() {
		el := canvas.HTMLCanvasElementFromJS(js.Global().Get("document").Call("createElement", "canvas"))
		el.SetWidth(uint(w))
		el.SetHeight(uint(h))
		ctx := canvas.CanvasRenderingContext2DFromJS(el.GetContext("2d", map[string]any{"willReadFrequently": true}).JSValue())
		ctx.SetFillStyle(canvas.UnionFromJS(js.ValueOf("#ffffff"))) // transparent areas show white
		ctx.FillRect(0, 0, float64(w), float64(h))
		ctx.DrawImage(canvas.UnionFromJS(bmp), 0, 0)
		rgba = bytesFromJS(ctx.GetImageData(0, 0, w, h).Data().JSValue())
	})
	if err != nil {
		return recon.Pixels{}, "", fmt.Errorf("%s: reading the decoded pixels failed (%v)", name, err)
	}
	p, err := recon.FromRGBA(rgba, w, h, 3)
	if err != nil {
		return recon.Pixels{}, "", fmt.Errorf("%s: %w", name, err)
	}
	return p, note, nil
}

// fetchBytes downloads url, reporting progress (total is 0 when unknown).
// A missing file (404) gives found == false and no error.
func fetchBytes(url string, progress func(done, total int)) (data []byte, found bool, err error) {
	resp, err := await(js.Global().Call("fetch", url))
	if err != nil {
		return nil, false, fmt.Errorf("fetch %s: %w", url, err)
	}
	if status := resp.Get("status").Int(); status == 404 {
		return nil, false, nil
	} else if !resp.Get("ok").Bool() {
		return nil, false, fmt.Errorf("fetch %s: HTTP %d", url, status)
	}
	total, _ := strconv.Atoi(resp.Get("headers").Call("get", "Content-Length").String())
	body := resp.Get("body")
	if !body.Truthy() {
		ab, err := await(resp.Call("arrayBuffer"))
		if err != nil {
			return nil, false, fmt.Errorf("fetch %s: %w", url, err)
		}
		return bytesFromJS(js.Global().Get("Uint8Array").New(ab)), true, nil
	}
	reader := body.Call("getReader")
	for {
		chunk, err := await(reader.Call("read"))
		if err != nil {
			return nil, false, fmt.Errorf("fetch %s: %w", url, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		data = append(data, bytesFromJS(chunk.Get("value"))...)
		if progress != nil {
			progress(len(data), total)
		}
	}
	return data, true, nil
}

// fetchImage downloads and decodes an image.
func fetchImage(url, name string) (recon.Pixels, string, error) {
	resp, err := await(js.Global().Call("fetch", url))
	if err != nil {
		return recon.Pixels{}, "", fmt.Errorf("fetch %s: %w", url, err)
	}
	if !resp.Get("ok").Bool() {
		return recon.Pixels{}, "", fmt.Errorf("fetch %s: HTTP %d", url, resp.Get("status").Int())
	}
	blob, err := await(resp.Call("blob"))
	if err != nil {
		return recon.Pixels{}, "", fmt.Errorf("fetch %s: %w", url, err)
	}
	return decodeBlob(name, blob)
}

// fileList copies the files of a FileList (the list itself may be
// cleared once the callback that got it returns).
func fileList(list js.Value) []js.Value {
	n := list.Get("length").Int()
	out := make([]js.Value, n)
	for i := range out {
		out[i] = list.Index(i)
	}
	return out
}

// inputFiles takes the files chosen in the <input type=file> with the
// given id and clears the input, so choosing the same file again fires
// another change.
func inputFiles(id string) []js.Value {
	el := js.Global().Get("document").Call("getElementById", id)
	if !el.Truthy() {
		return nil
	}
	files := fileList(el.Get("files"))
	el.Set("value", "")
	return files
}

// decodeFiles decodes image files, one result per file.
func decodeFiles(files []js.Value) []imageResult {
	out := make([]imageResult, 0, len(files))
	for _, f := range files {
		name := f.Get("name").String()
		p, note, err := decodeBlob(name, f)
		r := imageResult{Name: name, Pix: p, Note: note, Err: err}
		if err == nil {
			r.Thumb = js.Global().Get("URL").Call("createObjectURL", f).String()
		}
		out = append(out, r)
	}
	return out
}

// readFiles reads whole files.
func readFiles(files []js.Value) ([]namedBytes, error) {
	out := make([]namedBytes, 0, len(files))
	for _, f := range files {
		name := f.Get("name").String()
		ab, err := await(f.Call("arrayBuffer"))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		out = append(out, namedBytes{Name: name, Data: bytesFromJS(js.Global().Get("Uint8Array").New(ab))})
	}
	return out, nil
}

// browserHooks are the page's listeners outside go-app's event handlers.
type browserHooks struct {
	funcs []js.Func
	undo  []func()
}

func (h *browserHooks) listen(target js.Value, event string, fn func(e js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(args[0])
		return nil
	})
	target.Call("addEventListener", event, f)
	h.funcs = append(h.funcs, f)
	h.undo = append(h.undo, func() { target.Call("removeEventListener", event, f) })
}

func (h *browserHooks) release() {
	for _, u := range h.undo {
		u()
	}
	for _, f := range h.funcs {
		f.Release()
	}
	h.funcs, h.undo = nil, nil
}

// installHooks listens for images dropped anywhere on the page or pasted
// from the clipboard. The callbacks only collect the files; decoding runs
// in a goroutine that then calls onImages.
func installHooks(onImages func([]imageResult), onDrag func(bool)) *browserHooks {
	h := &browserHooks{}
	doc := js.Global().Get("document")
	depth := 0
	h.listen(doc, "dragenter", func(e js.Value) {
		e.Call("preventDefault")
		if depth++; depth == 1 {
			onDrag(true)
		}
	})
	h.listen(doc, "dragleave", func(e js.Value) {
		if depth = max(depth-1, 0); depth == 0 {
			onDrag(false)
		}
	})
	h.listen(doc, "dragover", func(e js.Value) { e.Call("preventDefault") })
	h.listen(doc, "drop", func(e js.Value) {
		e.Call("preventDefault")
		depth = 0
		onDrag(false)
		files := fileList(e.Get("dataTransfer").Get("files"))
		if len(files) > 0 {
			go func() { onImages(decodeFiles(files)) }()
		}
	})
	h.listen(doc, "paste", func(e js.Value) {
		items := e.Get("clipboardData").Get("items")
		var files []js.Value
		for i := 0; i < items.Get("length").Int(); i++ {
			it := items.Index(i)
			if it.Get("kind").String() == "file" {
				if f := it.Call("getAsFile"); f.Truthy() {
					files = append(files, f)
				}
			}
		}
		if len(files) > 0 {
			e.Call("preventDefault")
			go func() { onImages(decodeFiles(files)) }()
		}
	})
	return h
}

// download offers data as a file download.
func download(name, mime string, data []byte) error {
	return try(func() {
		doc := js.Global().Get("document")
		blob := js.Global().Get("Blob").New([]any{bytesToJS(data)}, map[string]any{"type": mime})
		url := js.Global().Get("URL").Call("createObjectURL", blob)
		a := doc.Call("createElement", "a")
		a.Set("href", url)
		a.Set("download", name)
		a.Get("style").Set("display", "none")
		doc.Get("body").Call("appendChild", a)
		a.Call("click")
		a.Call("remove")
		var revoke js.Func
		revoke = js.FuncOf(func(js.Value, []js.Value) any {
			js.Global().Get("URL").Call("revokeObjectURL", url)
			revoke.Release()
			return nil
		})
		js.Global().Call("setTimeout", revoke, 60_000)
	})
}

// Browser storage: the origin private file system (OPFS).

func storageDir() (js.Value, error) {
	st := js.Global().Get("navigator").Get("storage")
	if !st.Truthy() || !st.Get("getDirectory").Truthy() {
		return js.Value{}, errors.New("this browser has no origin private file system (navigator.storage.getDirectory)")
	}
	return await(st.Call("getDirectory"))
}

func isNotFound(err error) bool {
	var je *jsutil.Error
	return errors.As(err, &je) && je.Name == "NotFoundError"
}

// storeWrite replaces the stored file name with data (atomically: a
// writable stream commits on close).
func storeWrite(name string, data []byte) (err error) {
	defer markStorage(&err)
	dir, err := storageDir()
	if err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	fh, err := await(dir.Call("getFileHandle", name, map[string]any{"create": true}))
	if err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	w, err := await(fh.Call("createWritable"))
	if err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	if _, err := await(w.Call("write", bytesToJS(data))); err != nil {
		w.Call("abort")
		return fmt.Errorf("save %s: %w", name, err)
	}
	if _, err := await(w.Call("close")); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// storeRead returns a stored file; found is false when there is none.
func storeRead(name string) (data []byte, found bool, err error) {
	defer markStorage(&err)
	dir, err := storageDir()
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	fh, err := await(dir.Call("getFileHandle", name))
	if isNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	f, err := await(fh.Call("getFile"))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	ab, err := await(f.Call("arrayBuffer"))
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	return bytesFromJS(js.Global().Get("Uint8Array").New(ab)), true, nil
}

// storeDelete removes a stored file (no error when there is none).
func storeDelete(name string) (err error) {
	defer markStorage(&err)
	dir, err := storageDir()
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	if _, err := await(dir.Call("removeEntry", name)); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// fileSet holds files taken from a file input.
type fileSet []js.Value

// takeInputFiles takes the files chosen in the file input with the given
// id (see inputFiles).
func takeInputFiles(id string) fileSet { return fileSet(inputFiles(id)) }

// decodeImages decodes the files as images.
func (f fileSet) decodeImages() []imageResult { return decodeFiles(f) }

// read reads the files whole.
func (f fileSet) read() ([]namedBytes, error) { return readFiles(f) }

// controlledAtLoad reports whether a service worker controlled the page
// when it started loading (public/web/sw-state.js).
func controlledAtLoad() bool { return js.Global().Get("webmaeControlledAtLoad").Truthy() }
