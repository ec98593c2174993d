//go:build js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/internal/jsutil"
)

// errorScope runs fn inside a validation error scope and returns fn's error
// or the scope's.
func (b *Backend) errorScope(fn func() error) error {
	dev := b.dev.js
	dev.Call("pushErrorScope", "validation")
	err := fn()
	e, perr := jsutil.Await(context.Background(), dev.Call("popErrorScope"))
	switch {
	case err != nil:
		return err
	case perr != nil:
		return fmt.Errorf("popErrorScope: %w", perr)
	case e.Truthy():
		return errors.New(jsutil.ErrorOf(e).Message)
	}
	return nil
}

// compilationError returns the first error message of getCompilationInfo
// as a ShaderError (file and entry are filled in by the caller).
func (b *Backend) compilationError(mod *wgpu.ShaderModule) error {
	m := jsOf(mod)
	if m.Get("getCompilationInfo").Type() != js.TypeFunction {
		return nil
	}
	ci, err := jsutil.Await(context.Background(), m.Call("getCompilationInfo"))
	if err != nil {
		return nil // no information; pipeline creation reports the error
	}
	msgs := ci.Get("messages")
	for i := 0; i < msgs.Length(); i++ {
		msg := msgs.Index(i)
		if msg.Get("type").String() != "error" {
			continue
		}
		return &ShaderError{
			Line: msg.Get("lineNum").Int(),
			Col:  msg.Get("linePos").Int(),
			Msg:  msg.Get("message").String(),
			Err:  errors.New(msg.Get("message").String()),
		}
	}
	return nil
}

// waitMap: the binding's TryMapAsync already awaited the promise.
func (b *Backend) waitMap(done *bool) error {
	if !*done {
		return errors.New("gpu: buffer map did not complete")
	}
	return nil
}

// asyncError reports device loss or an uncaptured error delivered by the
// browser's callbacks.
func (b *Backend) asyncError() error {
	b.dev.mu.Lock()
	defer b.dev.mu.Unlock()
	return b.dev.async
}
