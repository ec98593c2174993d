package gpu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"webmae/engine/backend"
)

func TestShaderCompileErrorHasFileAndLine(t *testing.T) {
	b := gpuBackend(t)
	src := "// broken on purpose\n@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() {\n    x[0] = undefined_function(1.0);\n}\n"
	k := kernel{file: "broken.wgsl", entry: "main"}
	b.shaders[b.moduleKey(k)] = src // what source() would load and cache
	_, err := b.pipeline(k)
	var se *ShaderError
	if !errors.As(err, &se) {
		t.Fatalf("want a *ShaderError, got %T %v", err, err)
	}
	if se.File != "broken.wgsl" || se.Line != 4 || se.Entry != "main" {
		t.Errorf("located at %s:%d entry %s, want broken.wgsl:4 entry main", se.File, se.Line, se.Entry)
	}
	msg := err.Error()
	for _, want := range []string{"shaders/broken.wgsl:4:", "undefined_function", "x[0] = undefined_function(1.0);"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	t.Log(msg)
}

func TestSpecialiseNeedsTheConstLine(t *testing.T) {
	if _, err := specialise("m.wgsl", "const TRANS_A = false;\n", "TRANS_B"); err == nil {
		t.Fatal("specialising a missing const should fail")
	}
	out, err := specialise("m.wgsl", "const TRANS_A = false;\nx\n", "TRANS_A")
	if err != nil || !strings.HasPrefix(out, "const TRANS_A = true; \nx") {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestLimitErrorsAreReportedOnceAndRecoverable(t *testing.T) {
	b := gpuBackend(t)
	// Attention with a head vector wider than the workgroup memory holds
	// (sequences of any length are fine: see TestAttention).
	p, err := b.pipeline(kAttention)
	if err != nil {
		t.Fatal(err)
	}
	hd := p.constant("MAX_HD") + 1
	qkv := b.NewBuffer(2 * 3 * hd)
	probs := b.NewBuffer(4)
	out := b.NewBuffer(2 * hd)
	b.Attention(backend.Whole(out), backend.Whole(probs), backend.Whole(qkv), 1, 2, 1, hd)
	err = b.Submit()
	if err == nil || !strings.Contains(err.Error(), "workgroup memory") {
		t.Fatalf("Submit after oversized attention: %v", err)
	}
	if err := b.Submit(); err != nil {
		t.Fatalf("the error should be reported once, got again: %v", err)
	}

	// A buffer over maxBufferSize: reported by the next Read, with the limit.
	n := int(b.Info().Limits.MaxBufferSize/4) + 1
	big := b.NewBuffer(n)
	small := b.NewBuffer(4)
	err = b.Read(backend.Whole(small), make([]float32, 4))
	if err == nil || !strings.Contains(err.Error(), "maxBufferSize") {
		t.Fatalf("Read after an oversized NewBuffer: %v", err)
	}
	if big.Len() != n {
		t.Fatalf("failed buffer reports Len %d", big.Len())
	}
	// ... and the backend still works.
	b.Write(backend.Whole(small), []float32{1, 2, 3, 4})
	got := make([]float32, 4)
	if err := b.Read(backend.Whole(small), got); err != nil || got[3] != 4 {
		t.Fatalf("backend unusable after a reported error: %v %v", got, err)
	}
	if _, err := b.TryNewBuffer(n); err == nil {
		t.Fatal("TryNewBuffer over maxBufferSize should fail")
	}
}

func TestProgrammingErrorsPanic(t *testing.T) {
	b := gpuBackend(t)
	x := backend.Whole(b.NewBuffer(6))
	for name, f := range map[string]func(){
		"matmul sizes": func() { b.MatMul(x, x, x, backend.View{}, backend.MatMul{M: 2, N: 2, K: 2}) },
		"copy lengths": func() { b.Copy(x.Sub(0, 2), x.Sub(2, 3)) },
		"foreign view": func() { b.Zero(backend.View{Buf: fakeBuffer(3), Len: 3}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

type fakeBuffer int

func (f fakeBuffer) Len() int { return int(f) }

func TestClassifyDeviceLoss(t *testing.T) {
	for msg, lost := range map[string]bool{
		"Validation Error: Parent device is lost": true,
		"Device lost: reason unknown":             true,
		"Validation Error: buffer too small":      false,
	} {
		err := classify(errors.New(msg))
		if errors.Is(err, ErrDeviceLost) != lost {
			t.Errorf("classify(%q) = %v, lost %v", msg, err, lost)
		}
	}
}

// TestWindowedBindings runs kernels on views of buffers larger than the
// storage binding window, with the window lowered to 4 KiB so that small
// buffers exercise the same paths as the `base` preset's 448 MB parameter
// buffer: windows on a grid, exact windows, chunked elementwise kernels.
func TestWindowedBindings(t *testing.T) {
	gpuBackend(t) // skip without an adapter
	g, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Release()
	g.setBindWindow(4096)
	e := newEnv(t, 7, 0)
	e.g = g

	const n = 10000 // 40 kB: ten windows
	big := e.uniform("big", n, -1, 1)
	other := e.uniform("other", n, -1, 1)
	grads := e.uniform("grads", n, -0.1, 0.1)
	m1 := e.uniform("m", n, -0.01, 0.01)
	m2 := e.uniform("v", n, 0, 1e-3)
	view := func(x *tensor, off, l int) (backend.View, backend.View) { return x.gv.Sub(off, l), x.cv.Sub(off, l) }

	// Elementwise over the whole buffer (chunks of 512 elements).
	for _, k := range []backend.Kernels{e.g, e.c} {
		pick := func(x *tensor) backend.View {
			if k == backend.Kernels(e.g) {
				return x.gv
			}
			return x.cv
		}
		k.Add(pick(big), pick(other))
		k.AdamWStep(pick(other), pick(grads), pick(m1), pick(m2), backend.AdamW{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.05, BiasCorr1: 0.1, BiasCorr2: 0.05})
		k.AddBroadcast(pick(grads).Sub(3, 9900), pick(m1).Sub(7000, 99), 100)
	}
	// Matmuls on views at offsets all over the buffers: inside one grid
	// window, straddling two (exact window), at the very end.
	for i, off := range []int{0, 100, 1000, 1023, 4000, 9000} {
		mm := backend.MatMul{M: 5, N: 7, K: 30, TransB: i%2 == 1}
		ga, ca := view(big, off, mm.M*mm.K)
		gb, cb := view(other, n-off-mm.K*mm.N, mm.K*mm.N)
		gc, cc := view(grads, (off*7)%(n-mm.M*mm.N), mm.M*mm.N)
		e.g.MatMul(gc, ga, gb, backend.View{}, mm)
		e.c.MatMul(cc, ca, cb, backend.View{}, mm)
	}
	if err := e.g.Submit(); err != nil {
		t.Fatal(err)
	}
	// Loose bounds: this test is about addressing, not rounding (any
	// addressing error is O(1)).
	tol := func(int) float64 { return 1e-4 }
	e.expect(big, tol)
	e.expect(other, tol)
	e.expect(grads, tol)
	e.expect(m1, tol)
	e.expect(m2, tol)

	// A single view larger than a binding cannot be bound: a clear error.
	e.g.MatMul(grads.gv.Sub(0, 2000), big.gv.Sub(0, 2000), other.gv.Sub(0, 1), backend.View{}, backend.MatMul{M: 2000, N: 1, K: 1})
	err = e.g.Submit()
	if err == nil || !strings.Contains(err.Error(), "maxStorageBufferBindingSize") {
		t.Fatalf("oversized view: %v", err)
	}
}

// TestBufferLargerThanBinding uses a real buffer over the device's
// maxStorageBufferBindingSize (128 MiB on lavapipe and by default in
// browsers), as the `base` preset's flat parameter buffer is.
func TestBufferLargerThanBinding(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~150 MB")
	}
	b := gpuBackend(t)
	lim := b.Info().Limits
	if lim.MaxStorageBufferBindingSize >= lim.MaxBufferSize || lim.MaxStorageBufferBindingSize > 1<<28 {
		t.Skipf("binding limit %d not below buffer limit %d (or too large to test cheaply)", lim.MaxStorageBufferBindingSize, lim.MaxBufferSize)
	}
	n := int(lim.MaxStorageBufferBindingSize/4) + 1<<20
	host := make([]float32, n)
	for i := range host {
		host[i] = float32(i % 1000)
	}
	buf := b.NewBuffer(n)
	all := backend.Whole(buf)
	b.Write(all, host)
	half := n / 2
	// Add the second half onto the first: each half is bigger than half a
	// window, so the elementwise kernel chunks it.
	b.Add(all.Sub(0, half), all.Sub(half, half))
	// A matmul reading the far end of the buffer (past the first binding).
	mm := backend.MatMul{M: 3, N: 4, K: 5}
	b.MatMul(all.Sub(n-12, 12), all.Sub(n-100, 15), all.Sub(n-50, 20), backend.View{}, mm)
	got := make([]float32, 12)
	if err := b.Read(all.Sub(n-12, 12), got); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			var want float32
			for k := 0; k < 5; k++ {
				want += host[n-100+i*5+k] * host[n-50+k*4+j]
			}
			if got[i*4+j] != want { // small integers: exact
				t.Fatalf("far-end matmul [%d,%d] = %g, want %g", i, j, got[i*4+j], want)
			}
		}
	}
	for _, at := range []int{0, half/2 + 3, half - 1} {
		v := make([]float32, 1)
		if err := b.Read(all.Sub(at, 1), v); err != nil {
			t.Fatal(err)
		}
		if want := host[at] + host[half+at]; v[0] != want {
			t.Fatalf("element %d after add = %g, want %g", at, v[0], want)
		}
	}
	fmt.Fprintf(testWriter{t}, "buffer of %d MiB over a %d MiB binding limit: ok\n", n*4>>20, lim.MaxStorageBufferBindingSize>>20)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestOrderingAndArenaWrap checks that Write is ordered after the kernels
// recorded before it, and that a step with more dispatches than the uniform
// arena holds is split transparently.
func TestOrderingAndArenaWrap(t *testing.T) {
	b := gpuBackend(t)
	src, dst := b.NewBuffer(3), b.NewBuffer(3)
	b.Write(backend.Whole(src), []float32{1, 2, 3})
	b.Copy(backend.Whole(dst), backend.Whole(src)) // recorded, not submitted
	b.Write(backend.Whole(src), []float32{7, 8, 9})
	got := make([]float32, 3)
	if err := b.Read(backend.Whole(dst), got); err != nil {
		t.Fatal(err)
	}
	if got[0] != 1 || got[2] != 3 {
		t.Fatalf("Write overtook an earlier kernel: dst = %v, want [1 2 3]", got)
	}

	one, acc := b.NewBuffer(1), b.NewBuffer(1)
	b.Write(backend.Whole(one), []float32{1})
	n := arenaSlots + 123
	for i := 0; i < n; i++ {
		b.Add(backend.Whole(acc), backend.Whole(one))
	}
	if err := b.Read(backend.Whole(acc), got[:1]); err != nil {
		t.Fatal(err)
	}
	if got[0] != float32(n) {
		t.Fatalf("after %d adds of 1: %g", n, got[0])
	}
}
