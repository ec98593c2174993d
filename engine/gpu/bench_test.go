package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"webmae/engine/backend"
)

// BenchmarkMatMul measures C = A B for square n x n float32 matrices:
// n matmuls per submit-free loop, then one readback to wait for the queue.
// The GFLOP/s metric counts 2 n^3 flops per product.
func BenchmarkMatMul(b *testing.B) {
	for _, n := range []int{256, 512, 1024} {
		for _, tr := range []struct {
			name   string
			ta, tb bool
		}{{"NN", false, false}, {"NT", false, true}, {"TN", true, false}} {
			b.Run(fmt.Sprintf("%d/%s", n, tr.name), func(b *testing.B) {
				benchMatMul(b, n, tr.ta, tr.tb)
			})
		}
	}
}

func benchMatMul(b *testing.B, n int, ta, tb bool) {
	g := gpuBackend(b)
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = rng.Float32()*2 - 1
	}
	x, y, z := g.NewBuffer(n*n), g.NewBuffer(n*n), g.NewBuffer(n*n)
	g.Write(backend.Whole(x), vals)
	g.Write(backend.Whole(y), vals)
	p := backend.MatMul{M: n, N: n, K: n, TransA: ta, TransB: tb}
	sync := make([]float32, 1)
	run := func() {
		g.MatMul(backend.Whole(z), backend.Whole(x), backend.Whole(y), backend.View{}, p)
	}
	run() // compile the pipeline, create the bind group
	if err := g.Read(backend.View{Buf: z, Len: 1}, sync); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run()
		if err := g.Submit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := g.Read(backend.View{Buf: z, Len: 1}, sync); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/el.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(0, "ns/op") // time per product is in GFLOP/s; ns/op includes the final readback
}
