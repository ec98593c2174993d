//go:build js

package gpu

import (
	"context"
	"fmt"
	"syscall/js"
	"unsafe"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/internal/jsutil"
)

var _ = [1]struct{}{}[unsafe.Sizeof(wgpu.PipelineLayout{})-unsafe.Sizeof(jsHandle{})]

// createPipelines compiles the shader modules of ks (one after the other:
// parsing is quick) and then requests every pipeline with
// createComputePipelineAsync before awaiting any, so the browser compiles
// them in parallel on its own threads; progress is reported as each
// arrives. The first failure is returned once all have settled.
func (b *Backend) createPipelines(ctx context.Context, ks []kernel, progress Progress) error {
	type result struct {
		p   *pipeline
		src string
		v   js.Value
		err error
	}
	ch := make(chan result, len(ks))
	pending := 0
	var first error
	for _, k := range ks {
		p, mod, src, err := b.prepare(k)
		if err != nil {
			first = err
			break
		}
		desc := map[string]any{
			"label":   k.entry + " " + k.spec,
			"layout":  (*jsHandle)(unsafe.Pointer(p.layout.pipeLayout)).v,
			"compute": map[string]any{"module": jsOf(mod), "entryPoint": k.entry},
		}
		var promise js.Value
		if err := jsutil.Try(func() { promise = b.dev.js.Call("createComputePipelineAsync", desc) }); err != nil {
			first = shaderError(k.file, k.entry, src, err)
			break
		}
		pending++
		go func() {
			v, err := jsutil.Await(ctx, promise)
			ch <- result{p: p, src: src, v: v, err: err}
		}()
	}
	for done := 0; done < pending; done++ {
		r := <-ch
		if r.err != nil {
			if first == nil {
				first = shaderError(r.p.k.file, r.p.k.entry, r.src, fmt.Errorf("createComputePipelineAsync: %w", r.err))
			}
			continue
		}
		k := r.p.k
		r.p.pipe = (*wgpu.ComputePipeline)(unsafe.Pointer(&jsHandle{v: r.v}))
		b.pipelines[b.pipeKeyOf(k)] = r.p
		progress(done+1, len(ks))
	}
	return first
}
