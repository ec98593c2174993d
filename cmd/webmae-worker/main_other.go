//go:build !(js && wasm)

// Command webmae-worker is the page's CPU engine in a Web Worker; it is
// built only for the browser (GOOS=js GOARCH=wasm, by
// scripts/build-web.sh). The engine it runs is internal/cpuworker.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "webmae-worker runs only in the browser: build it with GOOS=js GOARCH=wasm (scripts/build-web.sh)")
	os.Exit(2)
}
