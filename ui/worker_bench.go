package ui

import (
	"encoding/json"
	"fmt"

	"webmae/engine/bench"
	"webmae/internal/offline"
)

// runBenchCPU is /bench?only=cpu: the one-image reconstruction latency of
// the CPU engine in its Web Worker (engine/bench.Reconstruct run in the
// worker) against TensorFlow.js's wasm backend (bench_tfjs.js's MAE, in
// the page) on the same config, then their ratio. No WebGPU is used.
func runBenchCPU(o benchOptions, haveTfjs bool, emit func(any), status func(string)) error {
	emit(benchNote{Name: "cpu", Note: "only=cpu: one-image reconstruction in webmae's CPU worker (Go wasm, one thread) " +
		"and in TensorFlow.js's wasm backend on this page's thread; no WebGPU."})
	cfgJSON := mustJSON(o.cfg) // Hugging Face field names
	status("reconstruction (webmae's CPU worker)")
	ours, err := benchWorkerRecon(cfgJSON, o.preset, int(o.minTime.Milliseconds()))
	if err != nil {
		return fmt.Errorf("reconstruction in the CPU worker: %w", err)
	}
	ours.Name = "reconstruct_cpu"
	emit(ours)
	if !tfjsWanted(o, haveTfjs, emit) {
		return nil
	}
	status("loading TensorFlow.js's wasm backend")
	var init bench.Result
	if err = loadTfjsScripts(); err == nil {
		init, err = tfjsCall("init", "wasm")
	}
	if err != nil {
		emit(benchNote{Name: "tfjs", Note: "TensorFlow.js's wasm backend could not be started (" + err.Error() + "), so this page measures webmae alone."})
		return nil
	}
	emit(benchNote{Name: "tfjs", Note: init.Backend + ": " + init.Note})
	keepOffline("TensorFlow.js's files", offline.Loaded(benchTfjsDir))
	status("reconstruction (TensorFlow.js wasm)")
	theirs, err := tfjsCall("reconstruct", json.RawMessage(cfgJSON), o.preset, 3, o.minTime.Milliseconds())
	if err != nil {
		return fmt.Errorf("tfjs wasm reconstruction: %w", err)
	}
	theirs.Name = "reconstruct_cpu"
	emit(theirs)
	for _, r := range ratios([]bench.Result{ours}, []bench.Result{theirs}) {
		emit(r)
	}
	return nil
}
