//go:build !(js && wasm)

package ui

import (
	"errors"

	"webmae/engine/backend"
	"webmae/engine/cpu"
	"webmae/engine/recon"
)

// Outside the browser (the server prerendering the page, native tests)
// there is no DOM, storage or WebGPU: these stand-ins report that.

var errNoBrowser = errors.New("only available in the browser")

type browserHooks struct{}

func (*browserHooks) release() {}

func installHooks(func([]imageResult), func(bool)) *browserHooks { return &browserHooks{} }

type fileSet []struct{}

func takeInputFiles(string) fileSet { return nil }

func (fileSet) decodeImages() []imageResult { return nil }

func (fileSet) read() ([]namedBytes, error) { return nil, errNoBrowser }

func drawRGBA(string, int, int, []byte) error { return errNoBrowser }

func fetchBytes(string, func(int, int)) ([]byte, bool, error) { return nil, false, errNoBrowser }

func fetchImage(string, string) (recon.Pixels, string, error) {
	return recon.Pixels{}, "", errNoBrowser
}

func download(string, string, []byte) error { return errNoBrowser }

func storeWrite(string, []byte) error { return errNoBrowser }

func storeRead(string) ([]byte, bool, error) { return nil, false, errNoBrowser }

func storeDelete(string) error { return errNoBrowser }

const cpuBackendText = "CPU backend (native)"

func chooseBackend() (backend.Kernels, string, string) {
	return cpu.New(), cpuBackendText, ""
}

func cpuBackend() backend.Kernels { return cpu.New() }

// controlledAtLoad: outside the browser there is no service worker.
func controlledAtLoad() bool { return false }
