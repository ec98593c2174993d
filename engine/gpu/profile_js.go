//go:build js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"webmae/internal/jsutil"
)

// Profile records the work run issues (it must not submit or read, e.g.
// one training step: Forward, Backward, AdamW) and replays it one
// dispatch per submit, timing each: the wall time per kernel, summed over
// its dispatches, longest first. Browser only (it needs the replayed
// command list).
func (b *Backend) Profile(run func()) ([]KernelTime, error) {
	rp, ok := b.rec.cmd.(*replayCommands)
	if !ok {
		return nil, errors.New("gpu: profile: needs the replayed command list (SetReplay(true))")
	}
	if err := b.Submit(); err != nil {
		return nil, err
	}
	r := &b.rec
	r.profiling, r.names = true, r.names[:0]
	submits := r.stats.Submits
	run()
	r.profiling = false
	if r.stats.Submits != submits {
		b.dropEncoder()
		return nil, errors.New("gpu: profile: the work submitted on its own (a read, or more dispatches than one uniform arena holds)")
	}
	rp.profileNext = true
	if err := b.Submit(); err != nil {
		rp.profileNext = false
		return nil, err
	}
	v, err := jsutil.Await(context.Background(), rp.promise)
	if err != nil {
		return nil, fmt.Errorf("gpu: profile: %w", err)
	}
	if v.Length() != len(r.names) {
		return nil, fmt.Errorf("gpu: profile: %d timings for %d dispatches", v.Length(), len(r.names))
	}
	idx := map[string]int{}
	var out []KernelTime
	for i, n := range r.names {
		j, ok := idx[n]
		if !ok {
			j = len(out)
			idx[n] = j
			out = append(out, KernelTime{Kernel: n})
		}
		out[j].Count++
		out[j].Ms += v.Index(i).Float()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ms > out[j].Ms })
	return out, nil
}
