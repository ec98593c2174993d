package mae

import (
	"webmae/engine/backend"
	"webmae/engine/model"
)

// Allocation is what a model and one pass allocate on a backend, in bytes
// (float32 and int32 elements, 4 bytes each).
type Allocation struct {
	Params        int64 // the parameters, widened to float32
	Grads         int64 // their gradients (allocated with the model)
	Activations   int64 // one pass: activations and backward scratch
	LargestBuffer int64 // the largest single buffer (the parameters)
}

// Total is everything together.
func (m Allocation) Total() int64 { return m.Params + m.Grads + m.Activations }

// ExactMemory returns exactly what New(cfg) and NewPass(b, k) allocate.
// A one-image reconstruction is b = 1, k = cfg.NumKeep(ratio). AdamW
// training adds 2 x Params for its moments.
func ExactMemory(c model.Config, b, k int) Allocation {
	lay := model.NewLayout(c)
	p := int64(lay.Total) * 4
	m := Allocation{Params: p, Grads: p, LargestBuffer: p}
	count := func(n int) backend.View {
		m.Activations += int64(n) * 4
		m.LargestBuffer = max(m.LargestBuffer, int64(n)*4)
		return backend.View{}
	}
	buildPass(c, lay, b, k, count, count)
	return m
}
