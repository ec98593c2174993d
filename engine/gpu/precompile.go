package gpu

import (
	"context"
	"fmt"
	"slices"

	"github.com/oliverbestmann/webgpu/wgpu"

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
	rows := []int{w.Batch * l, w.Batch * te, w.Batch * td}
	ks := []kernel{kPatchify}
	// The forward products A W^T take matmul_direct when every K is a
	// multiple of 4 (the views' offsets are).
	if b.takesDirect(false, true, vec4Flags(c.PatchDim(), c.HiddenSize, c.IntermediateSize, c.DecoderHiddenSize, c.DecoderIntermediateSize)) {
		ks = append(ks, matmulDirectKernel)
	} else {
		for _, m := range rows {
			ks = append(ks, matmulKernel(false, true, matmulTileRows(m, b.matmulRows)))
		}
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
		for _, m := range rows {
			ks = append(ks, matmulKernel(false, false, matmulTileRows(m, b.matmulRows)))
		}
		// Weight gradients dW = dy^T x: M is a layer's output width.
		for _, m := range []int{c.HiddenSize, 3 * c.HiddenSize, c.IntermediateSize, c.DecoderHiddenSize,
			3 * c.DecoderHiddenSize, c.DecoderIntermediateSize, c.PatchDim()} {
			ks = append(ks, matmulKernel(true, false, matmulTileRows(m, b.matmulRows)))
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

// vec4Flags is matmul.wgsl's vec4 flags (bits 2 and 3) for products
// whose K is each of ks: both bits when every one is a multiple of 4.
func vec4Flags(ks ...int) int {
	for _, k := range ks {
		if k%4 != 0 {
			return 0
		}
	}
	return 12
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
