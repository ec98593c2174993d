// The CPU engine's Web Worker: starts webmae-worker.wasm (Go,
// cmd/webmae-worker) with Go's wasm_exec.js, the one the page uses, and
// hands it every message. Messages that arrive before Go is running are
// queued here. If the wasm cannot be started, the error is thrown from the
// worker, so that the page's Worker gets an error event and falls back to
// computing in the page.
'use strict';
importScripts('../wasm_exec.js');

const queued = [];
self.onmessage = (e) => queued.push(e.data);
self.webmaeWorkerReady = (handle) => {
  self.onmessage = (e) => handle(e.data);
  for (const data of queued.splice(0)) handle(data);
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch('webmae-worker.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((err) => setTimeout(() => { throw new Error(`the CPU engine (webmae-worker.wasm) did not start: ${err.message}`); }));
