//go:build !noasm

package cpu

import "golang.org/x/sys/cpu"

// kernel6x16 is the AVX2/FMA micro-kernel in gemm_amd64.s.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int, accumulate int)

// haveKernel reports whether this CPU runs the micro-kernel (builds with
// the noasm tag leave it out, see gemm_other.go).
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA
