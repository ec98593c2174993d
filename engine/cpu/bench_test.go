package cpu

import (
	"fmt"
	"testing"
	"time"

	"webmae/engine/bench"
)

// BenchmarkMatMul reports the CPU backend's n^3 matmul throughput.
func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			c := New()
			var gflops float64
			for i := 0; i < b.N; i++ {
				r, err := bench.Matmul(c, n, 200*time.Millisecond)
				if err != nil {
					b.Fatal(err)
				}
				gflops = r.Value
			}
			b.ReportMetric(gflops, "GFLOP/s")
		})
	}
}
