//go:build !amd64 || noasm

package cpu

// haveKernel is false where no assembly micro-kernel exists (the browser's
// wasm, architectures other than amd64, and builds with the noasm tag, which
// test that path natively); MatMul then uses gonum's Sgemm.
const haveKernel = false

func kernel6x16(k int, a, b, c *float32, ldc int, accumulate int) {
	panic("cpu: no micro-kernel in this build")
}
