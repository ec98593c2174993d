package main

import (
	"errors"
	"fmt"
	"os"

	"webmae/engine/tutorial"
)

// convertTutorial is `webmae convert` for the tutorial's family: its
// weights (torch.save or safetensors, the tutorial's keys) become
// OUT/model.safetensors (F32, each tensor once: the patch_to_emb aliases
// are left out) and OUT/config.json, which load back into the tutorial's
// PyTorch module with load_state_dict(..., strict=False).
func convertTutorial(weightsPath, configPath, out string, f16 bool) error {
	if f16 {
		return errors.New("--f16 is not available for the tutorial's family (its export is float32)")
	}
	cfg, err := tutorial.LoadConfig(configPath)
	if err != nil {
		return err
	}
	lay := tutorial.NewLayout(cfg)
	params, err := tutorial.LoadWeightsFile(weightsPath, lay)
	if err != nil {
		return err
	}
	if err := tutorial.SaveModel(out, cfg, lay, params); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s (the tutorial's keys, %d parameters) -> %s (model.safetensors + config.json, vit-pytorch-mae)\n",
		weightsPath, len(params), out)
	return nil
}
