package gpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"webmae/engine/backend"
	"webmae/engine/cpu"
)

// u is the unit roundoff of float32: a correctly rounded operation has
// relative error at most u, and a float32 sum of n terms computed in any
// order has absolute error at most gamma(n) * (sum of |terms|), gamma(n) =
// n*u/(1-n*u) (Higham, Accuracy and Stability of Numerical Algorithms,
// ch. 3). The tolerances below are such first-order worst-case bounds, with
// n the length of the longest chain of dependent roundings, evaluated on the
// absolute values of the operands (the "running error" form), so they do
// not depend on luck in the random data. engine/cpu accumulates in float64
// (its error is a final rounding) except in matmul and attention scores,
// where it uses float32 too and the bound counts both sides.
const u = 1.0 / (1 << 24)

func gamma(n int) float64 { return float64(n) * u / (1 - float64(n)*u) }

// shared is the package's test device: one per test binary, because device
// creation and pipeline compilation dominate small tests.
var shared struct {
	once sync.Once
	b    *Backend
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.b != nil {
		shared.b.Release()
	}
	os.Exit(code)
}

// gpuBackend returns the shared GPU backend or skips the test when no
// WebGPU adapter is available (CI installs mesa-vulkan-drivers: lavapipe).
func gpuBackend(t testing.TB) *Backend {
	t.Helper()
	shared.once.Do(func() {
		shared.b, shared.err = New(context.Background())
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "gpu tests on %s\n", shared.b.Name())
		}
	})
	if shared.err != nil {
		t.Skipf("no WebGPU adapter available (install mesa-vulkan-drivers for lavapipe): %v", shared.err)
	}
	if err := shared.b.Err(); err != nil {
		t.Fatalf("shared backend carries an error from an earlier test: %v", err)
	}
	return shared.b
}

// tensor is one operand, allocated identically on both backends.
type tensor struct {
	name   string
	n      int
	gv, cv backend.View
	index  bool
}

// region records where a tensor lives, to check that kernels never write
// outside their views.
type region struct {
	buf      backend.Buffer
	off, len int
}

// env runs one test case on the GPU and the CPU backends.
type env struct {
	t      *testing.T
	g      *Backend
	c      backend.Kernels
	rng    *rand.Rand
	arenaG backend.Buffer // optional shared float buffer (aliasing mode)
	arenaC backend.Buffer
	next   int  // bump pointer in the arena
	align4 bool // place every view at a multiple of 4 elements (vec4 paths)
	owned  []backend.Buffer
	used   map[backend.Buffer][]region
}

const sentinel = float32(-777.25)

// newEnv starts a case; with arena > 0 every float tensor of the case is
// placed, at random gaps, in one buffer of that many elements per backend,
// so the kernels see views of one buffer bound several times (as the MAE's
// activation arena and flat parameter buffer do). Otherwise each tensor has
// its own buffer with random padding before and after it.
func newEnv(t *testing.T, seed uint64, arena int) *env {
	e := &env{
		t:    t,
		g:    gpuBackend(t),
		c:    cpu.New(),
		rng:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		used: map[backend.Buffer][]region{},
	}
	if arena > 0 {
		e.arenaG = e.g.NewBuffer(arena)
		e.arenaC = e.c.NewBuffer(arena)
		e.owned = append(e.owned, e.arenaG)
		fill := make([]float32, arena)
		for i := range fill {
			fill[i] = sentinel
		}
		e.g.Write(backend.Whole(e.arenaG), fill)
		e.c.Write(backend.Whole(e.arenaC), fill)
	}
	return e
}

// alloc places n float elements and returns the two views.
func (e *env) alloc(n int) (backend.View, backend.View) {
	gap := e.rng.IntN(37)
	if e.align4 {
		gap &^= 3
	}
	if e.arenaG != nil {
		if e.align4 {
			gap += (4 - (e.next+gap)%4) % 4
		}
		off := e.next + gap
		if off+n > e.arenaG.Len() {
			e.t.Fatalf("arena of %d too small", e.arenaG.Len())
		}
		e.next = off + n
		return backend.View{Buf: e.arenaG, Off: off, Len: n}, backend.View{Buf: e.arenaC, Off: off, Len: n}
	}
	post := e.rng.IntN(29)
	gb, cb := e.g.NewBuffer(gap+n+post), e.c.NewBuffer(gap+n+post)
	e.owned = append(e.owned, gb)
	fill := make([]float32, gap+n+post)
	for i := range fill {
		fill[i] = sentinel
	}
	e.g.Write(backend.Whole(gb), fill)
	e.c.Write(backend.Whole(cb), fill)
	return backend.View{Buf: gb, Off: gap, Len: n}, backend.View{Buf: cb, Off: gap, Len: n}
}

// tensor makes a float operand holding vals.
func (e *env) tensor(name string, vals []float32) *tensor {
	x := &tensor{name: name, n: len(vals)}
	x.gv, x.cv = e.alloc(len(vals))
	e.used[x.gv.Buf] = append(e.used[x.gv.Buf], region{x.gv.Buf, x.gv.Off, x.gv.Len})
	e.g.Write(x.gv, vals)
	e.c.Write(x.cv, vals)
	return x
}

// uniform makes a tensor of n values uniform in [lo, hi).
func (e *env) uniform(name string, n int, lo, hi float64) *tensor {
	return e.tensor(name, e.values(n, lo, hi))
}

func (e *env) values(n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*e.rng.Float64())
	}
	return v
}

// output makes a tensor prefilled with random values (kernels that
// overwrite must not depend on them; accumulating kernels add to them).
func (e *env) output(name string, n int) *tensor { return e.uniform(name, n, -1, 1) }

// indices makes an index operand (own buffers, random offset).
func (e *env) indices(name string, vals []int32) *tensor {
	x := &tensor{name: name, n: len(vals), index: true}
	off := e.rng.IntN(7)
	gb, cb := e.g.NewIndexBuffer(off+len(vals)+3), e.c.NewIndexBuffer(off+len(vals)+3)
	e.owned = append(e.owned, gb)
	x.gv = backend.View{Buf: gb, Off: off, Len: len(vals)}
	x.cv = backend.View{Buf: cb, Off: off, Len: len(vals)}
	e.g.WriteIndex(x.gv, vals)
	e.c.WriteIndex(x.cv, vals)
	return x
}

// read returns the GPU and CPU contents of a tensor.
func (e *env) read(x *tensor) (g, c []float32) {
	e.t.Helper()
	g, c = make([]float32, x.n), make([]float32, x.n)
	if err := e.g.Read(x.gv, g); err != nil {
		e.t.Fatalf("gpu read %s: %v", x.name, err)
	}
	if err := e.c.Read(x.cv, c); err != nil {
		e.t.Fatalf("cpu read %s: %v", x.name, err)
	}
	return g, c
}

// expect compares a tensor of both backends: |gpu - cpu| <= tol(i) for
// every element (tol nil: bitwise equality).
func (e *env) expect(x *tensor, tol func(i int) float64) {
	e.t.Helper()
	g, c := e.read(x)
	bad := 0
	worst, worstI := 0.0, -1
	for i := range g {
		d := math.Abs(float64(g[i]) - float64(c[i]))
		lim := 0.0
		if tol != nil {
			lim = tol(i)
		}
		ok := d <= lim || (math.IsNaN(float64(g[i])) && math.IsNaN(float64(c[i])))
		if math.IsNaN(d) && !ok || !ok {
			if bad < 5 {
				e.t.Errorf("%s[%d]: gpu %g cpu %g |diff| %.3g > tol %.3g", x.name, i, g[i], c[i], d, lim)
			}
			bad++
		}
		if lim > 0 && d/lim > worst {
			worst, worstI = d/lim, i
		}
	}
	if bad > 0 {
		e.t.Errorf("%s: %d of %d elements out of tolerance", x.name, bad, len(g))
	} else if testing.Verbose() && worstI >= 0 && worst > 0.25 {
		e.t.Logf("%s: worst |diff|/tol %.2f at %d", x.name, worst, worstI)
	}
}

// done checks that nothing outside the tensors changed and releases the
// case's GPU buffers' contents from further checks.
func (e *env) done() {
	e.t.Helper()
	for buf, regions := range e.used {
		gb, ok := buf.(*Buffer)
		if !ok || gb.index {
			continue
		}
		all := make([]float32, gb.Len())
		if err := e.g.Read(backend.Whole(gb), all); err != nil {
			e.t.Fatalf("read back for padding check: %v", err)
		}
		inside := make([]bool, len(all))
		for _, r := range regions {
			for i := r.off; i < r.off+r.len; i++ {
				inside[i] = true
			}
		}
		for i, v := range all {
			if !inside[i] && v != sentinel {
				e.t.Fatalf("element %d outside every view changed: %g", i, v)
			}
		}
	}
	if err := e.g.Submit(); err != nil {
		e.t.Fatalf("submit: %v", err)
	}
}

// host returns the CPU contents of a tensor as float64.
func (e *env) host(x *tensor) []float64 {
	c := make([]float32, x.n)
	if err := e.c.Read(x.cv, c); err != nil {
		e.t.Fatal(err)
	}
	out := make([]float64, x.n)
	for i, v := range c {
		out[i] = float64(v)
	}
	return out
}

func absf(x float64) float64 { return math.Abs(x) }
