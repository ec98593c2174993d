package gpu

import (
	"context"
	"fmt"
	"slices"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
	"webmae/engine/model"
)

// Workload is the shape of an MAE computation, which decides the
// pipelines it needs: matmul tile heights follow the row counts and
// attention's workgroup rows the sequence lengths (see matmulTileRows,
// attentionSpec).
type Workload struct {
	Config   model.Config
	Batch    int  // images per pass
	Keep     int  // visible patches per image
	Training bool // the backward pass and AdamW too
}

// ReconstructionWorkload is one image's forward pass at the config's
// default mask ratio.
func ReconstructionWorkload(cfg model.Config) Workload {
	return Workload{Config: cfg, Batch: 1, Keep: cfg.NumKeep(cfg.MaskRatio)}
}

// Progress reports that done of total pipelines are compiled.
type Progress func(done, total int)

// kernelsFor returns the pipelines w needs that are not compiled yet, in the
// order of first use.
func (b *Backend) kernelsFor(w Workload) []kernel {
	c := w.Config
	l, te, td := c.NumPatches(), 1+w.Keep, 1+c.NumPatches()
	linears := modelLinears(c, w.Batch*l, w.Batch*te, w.Batch*td)
	ks := []kernel{kPatchify}
	for _, f := range linears {
		ks = append(ks, b.matmulFor(backend.MatMul{M: f.rows, N: f.out, K: f.in, TransB: true}))
	}
	ks = append(ks, kAddBroadcast, kCopy, kAdd, kGather, lnKernel(c.HiddenSize, false), lnKernel(c.DecoderHiddenSize, false),
		attentionSpec(kAttention, te, c.HiddenSize/c.NumAttentionHeads, b.attentionRows, b.attentionWG),
		attentionSpec(kAttention, td, c.DecoderHiddenSize/c.DecoderNumAttentionHeads, b.attentionRows, b.attentionWG),
		kUnshuffle)
	if c.NormPixLoss {
		ks = append(ks, kNormalize)
	}
	ks = append(ks, kMSERows, kMSETotal)
	if w.Training {
		ks = append(ks, kMSEBackward, kZero, kColumnSum, kGELUBackward, kUnshuffleBwd, kMaskTokenSum, kScatter, kAdamW,
			lnKernel(c.HiddenSize, true), lnKernel(c.DecoderHiddenSize, true), kLayerNormDP)
		// Linear's backward: dW = dy^T x, and dx = dy W but for the patch
		// embedding (the first of linears).
		for i, f := range linears {
			ks = append(ks, b.matmulFor(backend.MatMul{M: f.out, N: f.in, K: f.rows, TransA: true}))
			if i > 0 {
				ks = append(ks, b.matmulFor(backend.MatMul{M: f.rows, N: f.in, K: f.out}))
			}
		}
		for _, s := range [][3]int{{te, c.HiddenSize, c.NumAttentionHeads}, {td, c.DecoderHiddenSize, c.DecoderNumAttentionHeads}} {
			ks = append(ks, attentionSpec(kAttentionDQ, s[0], s[1]/s[2], b.attentionRows, b.attentionWG),
				attentionSpec(kAttentionDKV, s[0], s[1]/s[2], b.attentionRows, b.attentionWG))
		}
	}
	var out []kernel
	for _, k := range ks {
		if _, ok := b.pipelines[b.pipeKeyOf(k)]; !ok && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// linear is the shape of a Linear layer's products: rows of in features
// to out features.
type linear struct{ rows, in, out int }

// modelLinears lists the Linear layers of an MAE pass in the order of the
// forward pass (the patch embedding first), for patch, encoder and
// decoder row counts.
func modelLinears(c model.Config, patchRows, encRows, decRows int) []linear {
	D, Dd := c.HiddenSize, c.DecoderHiddenSize
	ls := []linear{{patchRows, c.PatchDim(), D}}
	block := func(rows, d, hidden int) {
		ls = append(ls, linear{rows, d, 3 * d}, linear{rows, d, d}, linear{rows, d, hidden}, linear{rows, hidden, d})
	}
	for range c.NumHiddenLayers {
		block(encRows, D, c.IntermediateSize)
	}
	ls = append(ls, linear{encRows, D, Dd})
	for range c.DecoderNumHiddenLayers {
		block(decRows, Dd, c.DecoderIntermediateSize)
	}
	return append(ls, linear{decRows, Dd, c.PatchDim()})
}

// lnKernel is the LayerNorm kernel (forward, or backward dx) for rows of
// dim features (see LayerNorm).
func lnKernel(dim int, backward bool) kernel {
	switch {
	case backward && dim <= lnRowsMaxDim:
		return kLayerNormDXR
	case backward:
		return kLayerNormDX
	case dim <= lnRowsMaxDim:
		return kLayerNormR
	}
	return kLayerNorm
}

// Compile compiles the pipelines w needs that are not compiled yet,
// reporting progress after each (and once with 0 done before the first).
// In the browser they are created with createComputePipelineAsync, all at
// once, so the browser compiles them in parallel; natively one after the
// other. Pipelines a workload does not need are compiled on first use, as
// before; Compile only moves the cost off the first computation and shows
// it. Like every Backend method it must not run concurrently with other
// uses of b.
func (b *Backend) Compile(ctx context.Context, w Workload, progress Progress) error {
	if err := w.Config.Validate(); err != nil {
		return fmt.Errorf("gpu: compile pipelines: %w", err)
	}
	if w.Batch < 1 || w.Keep < 1 || w.Keep > w.Config.NumPatches() {
		return fmt.Errorf("gpu: compile pipelines: batch %d and %d kept of %d patches", w.Batch, w.Keep, w.Config.NumPatches())
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	ks := b.kernelsFor(w)
	progress(0, len(ks))
	if len(ks) == 0 {
		return nil
	}
	return b.createPipelines(ctx, ks, progress)
}

// prepare compiles k's shader module and reads its contract and consts:
// everything of a pipeline but the pipeline object.
func (b *Backend) prepare(k kernel) (*pipeline, *wgpu.ShaderModule, string, error) {
	mod, src, err := b.module(k)
	if err != nil {
		return nil, nil, "", err
	}
	ct, err := parseContract(k.file, src)
	if err != nil {
		return nil, nil, "", err
	}
	l, err := b.layoutFor(ct.slots, ct.ro)
	if err != nil {
		return nil, nil, "", err
	}
	return &pipeline{k: k, layout: l, consts: parseConsts(src), contract: ct}, mod, src, nil
}
