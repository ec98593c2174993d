// Package cpu is the reference implementation of backend.Kernels in plain
// Go: the ground truth the WebGPU backend is tested against, and the fast
// native path on machines without a GPU. Matrix products use the packed
// GEMM of gemm.go with its AVX2/FMA micro-kernel on amd64 CPUs that have
// them, and gonum's pure-Go Sgemm elsewhere (the browser's wasm, other
// architectures, builds with the noasm tag); attention's per-head products
// use gonum's Sgemm. Reductions accumulate in float64; row-wise kernels are
// spread over the available cores when the work is large enough.
package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"webmae/engine/backend"
)

// Backend implements backend.Kernels on the host.
type Backend struct {
	workers int
	pool    sync.Pool // *[]float32 scratch for kernels that need it
}

// New returns a CPU backend using every core Go may run on.
func New() *Backend { return &Backend{workers: runtime.GOMAXPROCS(0)} }

// buffer is host storage: exactly one of f and i is set.
type buffer struct {
	f []float32
	i []int32
}

func (b *buffer) Len() int {
	if b.i != nil {
		return len(b.i)
	}
	return len(b.f)
}

// Name implements backend.Kernels.
func (c *Backend) Name() string { return fmt.Sprintf("cpu (pure Go, %d threads)", c.workers) }

// NewBuffer implements backend.Kernels.
func (c *Backend) NewBuffer(n int) backend.Buffer { return &buffer{f: make([]float32, n)} }

// NewIndexBuffer implements backend.Kernels.
func (c *Backend) NewIndexBuffer(n int) backend.Buffer { return &buffer{i: make([]int32, n)} }

// F returns the float32 elements of a CPU view (it panics on a view of
// another backend's buffer: mixing backends is a programming error).
func F(v backend.View) []float32 { return v.Buf.(*buffer).f[v.Off : v.Off+v.Len] }

// I returns the int32 elements of a CPU index view.
func I(v backend.View) []int32 { return v.Buf.(*buffer).i[v.Off : v.Off+v.Len] }

func sameLen(what string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("cpu: %s: length %d != %d", what, a, b))
	}
}

// Write implements backend.Kernels.
func (c *Backend) Write(dst backend.View, src []float32) {
	sameLen("write", dst.Len, len(src))
	copy(F(dst), src)
}

// WriteIndex implements backend.Kernels.
func (c *Backend) WriteIndex(dst backend.View, src []int32) {
	sameLen("write index", dst.Len, len(src))
	copy(I(dst), src)
}

// Read implements backend.Kernels.
func (c *Backend) Read(src backend.View, dst []float32) error {
	if src.Len != len(dst) {
		return fmt.Errorf("cpu read: view has %d elements, destination %d", src.Len, len(dst))
	}
	copy(dst, F(src))
	return nil
}

// Submit implements backend.Kernels; CPU kernels run synchronously.
func (c *Backend) Submit() error { return nil }

// Release implements backend.Kernels; buffers are garbage collected.
func (c *Backend) Release() {}

// scratch returns a float32 slice of length n from the pool.
func (c *Backend) scratch(n int) []float32 {
	if p, ok := c.pool.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

// release returns a slice from scratch to the pool.
func (c *Backend) release(s []float32) { c.pool.Put(&s) }

// parallel runs fn over [0, n) split into contiguous chunks, one per
// worker, when n*costPerItem is large enough to pay for the goroutines.
func (c *Backend) parallel(n, costPerItem int, fn func(lo, hi int)) {
	const minWork = 1 << 15
	w := c.workers
	if w > n {
		w = n
	}
	if w <= 1 || n*costPerItem < minWork {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// Zero implements backend.Kernels.
func (c *Backend) Zero(dst backend.View) { clear(F(dst)) }

// Copy implements backend.Kernels.
func (c *Backend) Copy(dst, src backend.View) {
	sameLen("copy", dst.Len, src.Len)
	copy(F(dst), F(src))
}

// Add implements backend.Kernels.
func (c *Backend) Add(dst, src backend.View) {
	sameLen("add", dst.Len, src.Len)
	d, s := F(dst), F(src)
	for i := range d {
		d[i] += s[i]
	}
}

// AddBroadcast implements backend.Kernels.
func (c *Backend) AddBroadcast(dst, src backend.View, outer int) {
	sameLen("add broadcast", dst.Len, outer*src.Len)
	d, s := F(dst), F(src)
	n := len(s)
	for o := 0; o < outer; o++ {
		row := d[o*n : (o+1)*n]
		for i := range row {
			row[i] += s[i]
		}
	}
}
