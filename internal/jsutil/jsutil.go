//go:build js && wasm

// Package jsutil awaits JavaScript promises and converts JavaScript
// exceptions and promise rejections into Go errors, for the packages that
// call browser APIs through syscall/js (engine/gpu, ui).
package jsutil

import (
	"context"
	"fmt"
	"syscall/js"
)

// Error is a JavaScript exception or promise rejection.
type Error struct {
	Name    string // the Error's name, e.g. "NotFoundError"; "" for a value that is not an Error
	Message string
}

func (e *Error) Error() string {
	if e.Name == "" || e.Name == "Error" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// ErrorOf converts a thrown or rejected JavaScript value: an object with a
// string message gives its name and message, anything else its string
// form (JavaScript's String(v)).
func ErrorOf(v js.Value) *Error {
	if v.Type() == js.TypeObject && v.Get("message").Type() == js.TypeString {
		name := ""
		if n := v.Get("name"); n.Type() == js.TypeString {
			name = n.String()
		}
		return &Error{Name: name, Message: v.Get("message").String()}
	}
	return &Error{Message: js.Global().Get("String").Invoke(v).String()}
}

// Await waits for promise to settle and returns its value, its rejection
// as an *Error, or ctx's error when ctx ends first. It blocks its
// goroutine until the browser's event loop settles the promise: call it
// from a goroutine of its own, never from inside a JavaScript callback.
func Await(ctx context.Context, promise js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err := &Error{Message: "promise rejected"}
		if len(args) > 0 {
			err = ErrorOf(args[0])
		}
		ch <- result{err: err}
		return nil
	})
	if err := Try(func() { promise.Call("then", onOK, onErr) }); err != nil {
		onOK.Release()
		onErr.Release()
		return js.Undefined(), fmt.Errorf("not a promise: %w", err)
	}
	select {
	case r := <-ch:
		onOK.Release()
		onErr.Release()
		return r.v, r.err
	case <-ctx.Done():
		// The callbacks stay alive: the promise may still settle and call
		// them (a released function called from JavaScript is fatal).
		return js.Undefined(), ctx.Err()
	}
}

// Try calls fn and returns a JavaScript exception it throws as an *Error;
// other panics propagate.
func Try(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = ErrorOf(je.Value)
		}
	}()
	fn()
	return nil
}

// Eval returns the value of a JavaScript expression: the content of one
// of the project's embedded .js files, each a function (engine/gpu's
// commands.js, ui's bench_tfjs.js). It compiles through Function, which
// the site's Content-Security-Policy allows ('unsafe-eval'); a syntax
// error panics as a js.Error, like any throwing call (see Try).
func Eval(expr string) js.Value {
	return js.Global().Get("Function").New("return (\n" + expr + "\n)").Invoke()
}
