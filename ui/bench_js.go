//go:build js && wasm

package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall/js"

	"webmae/engine/bench"
	"webmae/internal/jsutil"
)

// tfjsBench is bench_tfjs.js's object of measurements, once evaluated.
var tfjsBench js.Value

// loadTfjs evaluates bench_tfjs.js (once), loads TensorFlow.js's scripts
// through it and starts TensorFlow.js's WebGPU backend.
func loadTfjs() error {
	if err := loadTfjsScripts(); err != nil {
		return err
	}
	_, err := tfjsJSON("init")
	return err
}

// loadTfjsScripts evaluates bench_tfjs.js (once) and loads TensorFlow.js's
// scripts through it, starting no backend.
func loadTfjsScripts() error {
	if tfjsBench.IsUndefined() {
		var fns js.Value
		if err := jsutil.Try(func() { fns = jsutil.Eval(benchTfjsJS).Invoke(js.ValueOf(toAny(benchTfjsScripts))) }); err != nil {
			return fmt.Errorf("bench_tfjs.js: %w", err)
		}
		tfjsBench = fns
	}
	_, err := tfjsJSON("load")
	return err
}

// tfjsCall calls one of bench_tfjs.js's measurements with JSON arguments
// and decodes its result.
func tfjsCall(fn string, args ...any) (bench.Result, error) {
	out, err := tfjsJSON(fn, args...)
	if err != nil {
		return bench.Result{}, err
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return bench.Result{}, fmt.Errorf("%s result: %w", fn, err)
	}
	return r, nil
}

// tfjsJSON calls bench_tfjs.js's fn with its arguments as one JSON array
// and returns the JSON text its promise resolves to.
func tfjsJSON(fn string, args ...any) (string, error) {
	if args == nil {
		args = []any{}
	}
	var promise js.Value
	if err := jsutil.Try(func() { promise = tfjsBench.Call(fn, string(mustJSON(args))) }); err != nil {
		return "", err
	}
	v, err := jsutil.Await(context.Background(), promise)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
