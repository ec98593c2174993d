package ui

import (
	"fmt"
	"path"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/gpu"
	"webmae/engine/recon"
)

// keptModels is the page's store of models brought in (OPFS). Page
// restores from it at start-up, modelPanel keeps uploads in it, hubPanel
// keeps downloads and deletes; each change is published as stateKept.
var keptModels = &modelStore{fs: opfsFiles{}}

// limitsOf returns a WebGPU backend's device limits, nil for the CPU
// backend.
func limitsOf(k backend.Kernels) *gpu.Limits {
	if g, ok := k.(interface{ Info() gpu.Info }); ok {
		l := g.Info().Limits
		return &l
	}
	return nil
}

// publishKept publishes the store's index (stateKept) with note, or with
// a note saying that models cannot be kept when the index cannot be read.
func publishKept(ctx app.Context, st *modelStore, note string) {
	ix, err := st.Index()
	if err != nil {
		note = noteFor(err, "keep models in this browser (a reload loses them)")
	}
	ctx.SetState(stateKept, keptState{Index: ix, Note: note})
}

// restoreKept loads the kept model that was in use before the reload; nil
// (and no error) when none is kept or the storage cannot be read, which
// publishKept reports.
func restoreKept(ctx app.Context, s *session, st *modelStore) (*loadedModel, error) {
	publishKept(ctx, st, "")
	ix, err := st.Index()
	if err != nil || ix.Last == "" {
		return nil, nil
	}
	i, ok := ix.find(ix.Last)
	if !ok {
		return nil, fmt.Errorf("the index names a missing model %q", ix.Last)
	}
	m := ix.Models[i]
	weights, err := st.Weights(m)
	if err != nil {
		return nil, err
	}
	return buildModel(s, m.Name, m.Origin, weights, m.Config, m.Preprocessor)
}

// buildModel loads weights (with an optional config and preprocessor
// config) on the session's backend after checking that it fits.
func buildModel(s *session, name, origin string, weights, cfgJSON, preJSON []byte) (*loadedModel, error) {
	cfg, params, format, norm, err := modelFromBytes(weights, cfgJSON, preJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var lm *loadedModel
	err = s.do(func(k backend.Kernels) error {
		if err := memoryCheck(cfg, int64(len(weights)), limitsOf(k)); err != nil {
			return fmt.Errorf("%s does not fit: %w", name, err)
		}
		var err error
		if lm, err = newLoadedModel(k, cfg, params, norm, fmt.Sprintf("%s (%s names)", name, format)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lm.Origin = origin
	return lm, nil
}

// keep stores a model that was brought in, with its resolved config, as
// the one in use; a storage failure only costs the restore after a reload
// (the note says so).
func keep(ctx app.Context, st *modelStore, name, origin string, weights []byte, lm *loadedModel) {
	cfg, err := lm.Config.MarshalHF()
	var pre []byte
	if err == nil {
		pre, err = recon.MarshalPreprocessor(lm.Norm, lm.Config.ImageSize)
	}
	if err == nil {
		_, err = st.Put(name, origin, weights, cfg, pre)
	}
	note := ""
	if err != nil {
		note = noteFor(err, fmt.Sprintf("keep %s in this browser (a reload loses it)", name))
	}
	publishKept(ctx, st, note)
}

// keepUpload keeps a model loaded from files (the weights file among
// them). The tutorial's family is not kept: the store restores the
// official family only.
func keepUpload(ctx app.Context, st *modelStore, files []namedBytes, lm *loadedModel) {
	if lm.Tut != nil {
		return
	}
	for _, f := range files {
		if hasWeightsExt(f.Name) {
			keep(ctx, st, path.Base(f.Name), originFile, f.Data, lm)
			return
		}
	}
}
