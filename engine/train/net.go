package train

import (
	"fmt"

	"webmae/engine/backend"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
	"webmae/engine/tutorial"
)

// Model families a Trainer trains; a checkpoint records its family in
// the metadata entry "family" (absent: FamilyOfficial).
const (
	FamilyOfficial = "official"
	FamilyTutorial = tutorial.Architecture
)

// Net is a model family as the Trainer sees it: its masking rule, its
// training pass, AdamW, the parameters and optimizer state a checkpoint
// holds, and its export. OfficialNet and TutorialNet implement it.
type Net interface {
	Family() string
	// Geometry is the image side of the model (image size, patch size,
	// channels, default masking ratio, target): what the data pipeline,
	// the eval set and the baselines read.
	Geometry() model.Config
	ValidateRatio(ratio float64) error
	// NumKeep is the number of patches kept per image at ratio.
	NumKeep(ratio float64) int
	// Mask turns noise (b x L) into the family's masking keeping keep
	// patches per image.
	Mask(noise []float32, b, keep int) (model.Masking, error)
	// NewPass allocates a training pass for b images keeping keep patches.
	NewPass(b, keep int) (Pass, error)
	// Reconstruct runs pass (from NewPass) forward on a batch and returns
	// each image's reconstruction and metrics.
	Reconstruct(pass Pass, images []float32, mk model.Masking, n recon.Norm) ([]recon.Result, error)
	Kernels() backend.Kernels
	AdamW(lr float64)
	ParamCount() int
	ReadParams() ([]float32, error)
	SetParams([]float32) error
	ReadOptimizer() (mae.OptimizerState, error)
	SetOptimizer(mae.OptimizerState) error
	// MarshalConfig is the config.json the checkpoint records.
	MarshalConfig() ([]byte, error)
	// SaveModel writes model.safetensors and config.json into dir.
	SaveModel(dir string, f16 bool) error
	// String describes the model's layout, for messages.
	String() string
}

// Pass is one batch shape's forward and backward pass.
type Pass interface {
	SetInputs(images []float32, mk model.Masking) error
	Forward()
	Backward()
	Loss() (float32, error)
	Prediction() ([]float32, error)
}

// OfficialNet is the official MAE (engine/mae) as a Net.
type OfficialNet struct{ *mae.Model }

// Family implements Net.
func (OfficialNet) Family() string { return FamilyOfficial }

// Geometry implements Net.
func (n OfficialNet) Geometry() model.Config { return n.Config }

// ValidateRatio implements Net.
func (n OfficialNet) ValidateRatio(r float64) error { return n.Config.ValidateRatio(r) }

// NumKeep implements Net.
func (n OfficialNet) NumKeep(r float64) int { return n.Config.NumKeep(r) }

// Mask implements Net: model.MaskFromNoise.
func (n OfficialNet) Mask(noise []float32, b, keep int) (model.Masking, error) {
	return model.MaskFromNoise(noise, b, n.Config.NumPatches(), keep)
}

// NewPass implements Net.
func (n OfficialNet) NewPass(b, keep int) (Pass, error) { return n.Model.NewPass(b, keep) }

// Reconstruct implements Net (recon.ReconstructBatch).
func (n OfficialNet) Reconstruct(p Pass, images []float32, mk model.Masking, norm recon.Norm) ([]recon.Result, error) {
	mp, ok := p.(*mae.Pass)
	if !ok {
		return nil, fmt.Errorf("reconstruct: a %T is not an official-family pass", p)
	}
	return recon.ReconstructBatch(n.Model, mp, images, mk, norm)
}

// Kernels implements Net.
func (n OfficialNet) Kernels() backend.Kernels { return n.K }

// ParamCount implements Net.
func (n OfficialNet) ParamCount() int { return n.Layout.Total }

// MarshalConfig implements Net (the Hugging Face config.json).
func (n OfficialNet) MarshalConfig() ([]byte, error) { return n.Config.MarshalHF() }

// SaveModel implements Net (model.SaveModel).
func (n OfficialNet) SaveModel(dir string, f16 bool) error {
	params, err := n.ReadParams()
	if err != nil {
		return err
	}
	return model.SaveModel(dir, n.Config, n.Layout, params, f16)
}

func (n OfficialNet) String() string { return n.Layout.String() }

// TutorialNet is the tutorial's MAE (engine/tutorial) as a Net.
type TutorialNet struct{ *tutorial.Model }

// Family implements Net.
func (TutorialNet) Family() string { return FamilyTutorial }

// Geometry implements Net.
func (n TutorialNet) Geometry() model.Config { return n.Config.Geometry() }

// ValidateRatio implements Net.
func (n TutorialNet) ValidateRatio(r float64) error { return n.Config.ValidateRatio(r) }

// NumKeep implements Net: the tutorial masks int(ratio * L) patches.
func (n TutorialNet) NumKeep(r float64) int { return n.Config.NumKeep(r) }

// Mask implements Net: tutorial.MaskFromNoise.
func (n TutorialNet) Mask(noise []float32, b, keep int) (model.Masking, error) {
	l := n.Config.NumPatches()
	return tutorial.MaskFromNoise(noise, b, l, l-keep)
}

// NewPass implements Net.
func (n TutorialNet) NewPass(b, keep int) (Pass, error) { return n.Model.NewPass(b, keep) }

// Reconstruct implements Net: the raw-pixel prediction of each image,
// composed by recon.FromPrediction as for the official family.
func (n TutorialNet) Reconstruct(p Pass, images []float32, mk model.Masking, norm recon.Norm) ([]recon.Result, error) {
	if _, ok := p.(*tutorial.Pass); !ok {
		return nil, fmt.Errorf("reconstruct: a %T is not a tutorial-family pass", p)
	}
	if err := p.SetInputs(images, mk); err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	p.Forward()
	pred, err := p.Prediction()
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	g := n.Geometry()
	per, pd := g.NumChannels*g.ImageSize*g.ImageSize, g.NumPatches()*g.PatchDim()
	out := make([]recon.Result, mk.B)
	for b := range out {
		img := append([]float32(nil), images[b*per:(b+1)*per]...)
		if out[b], err = recon.FromPrediction(g, norm, img, recon.Masked(mk, b), pred[b*pd:(b+1)*pd]); err != nil {
			return nil, fmt.Errorf("reconstruct image %d: %w", b, err)
		}
	}
	return out, nil
}

// Kernels implements Net.
func (n TutorialNet) Kernels() backend.Kernels { return n.K }

// ParamCount implements Net.
func (n TutorialNet) ParamCount() int { return n.Layout.Total }

// MarshalConfig implements Net (the vit-pytorch-mae config.json).
func (n TutorialNet) MarshalConfig() ([]byte, error) { return n.Config.Marshal() }

// SaveModel implements Net (tutorial.SaveModel, float32 only).
func (n TutorialNet) SaveModel(dir string, f16 bool) error {
	if f16 {
		return fmt.Errorf("save model: the tutorial's family is exported in float32 only")
	}
	params, err := n.ReadParams()
	if err != nil {
		return err
	}
	return tutorial.SaveModel(dir, n.Config, n.Layout, params)
}

func (n TutorialNet) String() string { return n.Layout.String() }

// newNet allocates a model of family with config.json cfgJSON (as
// MarshalConfig wrote it) on k, its parameters zero.
func newNet(k backend.Kernels, family string, cfgJSON []byte) (Net, error) {
	switch family {
	case FamilyOfficial, "":
		cfg, err := model.ParseConfig(cfgJSON)
		if err != nil {
			return nil, err
		}
		m, err := mae.New(k, cfg)
		if err != nil {
			return nil, err
		}
		return OfficialNet{m}, nil
	case FamilyTutorial:
		cfg, err := tutorial.ParseConfig(cfgJSON)
		if err != nil {
			return nil, err
		}
		m, err := tutorial.New(k, cfg)
		if err != nil {
			return nil, err
		}
		return TutorialNet{m}, nil
	}
	return nil, fmt.Errorf("unknown model family %q (want %s or %s)", family, FamilyOfficial, FamilyTutorial)
}

// InitTutorial allocates a tutorial-family model of cfg on k initialised
// as the tutorial's PyTorch modules initialise themselves (tutorial.Init),
// from seed.
func InitTutorial(k backend.Kernels, cfg tutorial.Config, seed uint64) (TutorialNet, error) {
	m, err := tutorial.New(k, cfg)
	if err != nil {
		return TutorialNet{}, err
	}
	params := make([]float32, m.Layout.Total)
	tutorial.Init(m.Layout, params, seed)
	if err := m.SetParams(params); err != nil {
		return TutorialNet{}, err
	}
	return TutorialNet{m}, nil
}
