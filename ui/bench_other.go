//go:build !(js && wasm)

package ui

import "webmae/engine/bench"

// Outside the browser there is no TensorFlow.js to compare with.

func loadTfjs() error { return errNoBrowser }

func loadTfjsScripts() error { return errNoBrowser }

func tfjsCall(string, ...any) (bench.Result, error) { return bench.Result{}, errNoBrowser }
