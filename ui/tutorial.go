package ui

import (
	"bytes"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/train"
	"webmae/engine/tutorial"
)

// tutorialModel is the part of a loadedModel of the tutorial's family
// (engine/tutorial): loadedModel.Config then holds only its image geometry
// (tutorial.Config.Geometry), and Model and Rec are nil.
type tutorialModel struct {
	Config tutorial.Config
	Model  *tutorial.Model
	Rec    *tutorial.Reconstructor
}

// tutorialModelFromFiles loads the tutorial's weights (its state_dict keys)
// with a vit-pytorch-mae config.json and optionally preprocessor_config.json.
func tutorialModelFromFiles(k backend.Kernels, weights, cfgFile, pre *namedBytes) (*loadedModel, error) {
	cfg, err := tutorial.ParseConfig(cfgFile.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgFile.Name, err)
	}
	params, err := tutorial.ReadWeights(weights.Data, tutorial.NewLayout(cfg))
	if err != nil {
		return nil, fmt.Errorf("%s with %s: %w", weights.Name, cfgFile.Name, err)
	}
	norm, err := recon.DefaultNorm(cfg.Channels)
	if pre != nil {
		norm, err = recon.ParsePreprocessor(pre.Data, cfg.Channels)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weights.Name, err)
	}
	return newTutorialLoaded(k, cfg, params, norm, weights.Name+" (the tutorial's keys)")
}

func newTutorialLoaded(k backend.Kernels, cfg tutorial.Config, params []float32, norm recon.Norm, source string) (*loadedModel, error) {
	m, err := tutorial.New(k, cfg)
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(params); err != nil {
		return nil, err
	}
	lm, err := wrapTutorial(m, norm, source)
	if err != nil {
		return nil, err
	}
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) { return newTutorialLoaded(k, cfg, params, norm, source) }
	return lm, nil
}

// wrapTutorial shows the tutorial model m (its parameters as they are).
func wrapTutorial(m *tutorial.Model, norm recon.Norm, source string) (*loadedModel, error) {
	rec, err := tutorial.NewReconstructor(m, norm)
	if err != nil {
		return nil, err
	}
	return &loadedModel{Config: m.Config.Geometry(), Norm: norm, Source: source, Tut: &tutorialModel{Config: m.Config, Model: m, Rec: rec}}, nil
}

// freshTutorial is a tutorial model of cfg initialised as PyTorch does
// (train.InitTutorial) from seed.
func freshTutorial(k backend.Kernels, cfg tutorial.Config, seed uint64) (*loadedModel, error) {
	net, err := train.InitTutorial(k, cfg, seed)
	if err != nil {
		return nil, err
	}
	norm, err := recon.DefaultNorm(cfg.Channels)
	if err != nil {
		return nil, err
	}
	lm, err := wrapTutorial(net.Model, norm, fmt.Sprintf("freshly initialised (seed %d)", seed))
	if err != nil {
		return nil, err
	}
	lm.Fresh = true
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) { return freshTutorial(k, cfg, seed) }
	return lm, nil
}

// net is the model as engine/train trains it.
func (lm *loadedModel) net() train.Net {
	if lm.Tut != nil {
		return train.TutorialNet{Model: lm.Tut.Model}
	}
	return train.OfficialNet{Model: lm.Model}
}

// wrapNet shows a trained model of either family.
func wrapNet(n train.Net, norm recon.Norm, source string) (*loadedModel, error) {
	switch m := n.(type) {
	case train.TutorialNet:
		return wrapTutorial(m.Model, norm, source)
	case train.OfficialNet:
		return wrapModel(m.Model, norm, source)
	}
	return nil, fmt.Errorf("the page cannot show a %T", n)
}

// masking is the mask of one image for the model: random masks follow the
// model family's rule (the tutorial masks the first int(ratio*L) of the
// argsort, the official code keeps the first int(L*(1-ratio))); block-wise
// and hand-made masks are explicit.
func (lm *loadedModel) masking(s maskState) (model.Masking, error) {
	if lm.Tut != nil && s.Hand == nil && !s.Block {
		return lm.Tut.Config.RandomMask(s.Ratio, s.Seed)
	}
	return s.masking(lm.Config)
}

// reconstruct runs the model's reconstructor.
func (lm *loadedModel) reconstruct(img []float32, mk model.Masking) (recon.Result, error) {
	if lm.Tut != nil {
		return lm.Tut.Rec.Reconstruct(img, mk)
	}
	return lm.Rec.Reconstruct(img, mk)
}

// paramCount is the number of parameters.
func (lm *loadedModel) paramCount() int {
	if lm.Tut != nil {
		return lm.Tut.Model.Layout.Total
	}
	return lm.Model.Layout.Total
}

// describe names the model for the header line.
func (lm *loadedModel) describe() string {
	if t := lm.Tut; t != nil {
		return fmt.Sprintf("the tutorial's MAE, %d px, patch %d, %dx%d", t.Config.ImageSize, t.Config.PatchSize, t.Config.Dim, t.Config.Depth)
	}
	return describeConfig(lm.Config)
}

// tutorialFiles are the download of a tutorial-family model: its keys as
// safetensors (F32, no patch_to_emb aliases) and its config.json.
func tutorialFiles(t *tutorialModel) (weights, config []byte, err error) {
	params, err := t.Model.ReadParams()
	if err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	var buf bytes.Buffer
	if err := tutorial.WriteWeights(&buf, t.Config, t.Model.Layout, params); err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	cfg, err := t.Config.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("download: %w", err)
	}
	return buf.Bytes(), cfg, nil
}

// tutorialRows are the model card's facts for the tutorial's family.
func tutorialRows(lm *loadedModel, kv func(k, v string) app.UI) []app.UI {
	c := lm.Tut.Config
	att := func(heads, dimHead, dim int) string {
		if !tutorial.ProjectOut(heads, dimHead, dim) {
			return fmt.Sprintf("%d head of %d, no to_out", heads, dimHead)
		}
		return fmt.Sprintf("%d heads of %d", heads, dimHead)
	}
	return []app.UI{
		kv("family", "the tutorial's MAE (vit-pytorch-mae): LayerNorm-Linear-LayerNorm patch embedding, no CLS, learned positions"),
		kv("source", lm.Source),
		kv("input", fmt.Sprintf("%d×%d, %d channel(s), patch %d (%d patches)", c.ImageSize, c.ImageSize, c.Channels, c.PatchSize, c.NumPatches())),
		kv("encoder", fmt.Sprintf("%d wide × %d layers, %s, MLP %d", c.Dim, c.Depth, att(c.Heads, c.DimHead, c.Dim), c.Hidden())),
		kv("decoder", fmt.Sprintf("%d wide × %d layers, %s, MLP %d", c.DecoderDim, c.DecoderDepth, att(c.DecoderHeads, c.DecoderDimHead, c.DecoderDim), c.DecoderHidden())),
		kv("parameters", fmtParams(lm.paramCount())),
		kv("masking", fmt.Sprintf("masks int(ratio × %d) patches, the first of the noise's argsort", c.NumPatches())),
		kv("target", "raw (normalised) pixels, MSE over every value of the masked patches"),
	}
}
