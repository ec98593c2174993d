//go:build !amd64

package cpu

// haveKernel is false where no assembly micro-kernel exists; MatMul then
// uses gonum's Sgemm.
const haveKernel = false

func kernel6x16(k int, a, b, c *float32, ldc int, accumulate int) {
	panic("cpu: no micro-kernel on this architecture")
}
