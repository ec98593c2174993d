package main

import (
	"fmt"
	"os"

	"webmae/engine/fileio"
	"webmae/engine/harness"
	"webmae/engine/model"
	"webmae/engine/tutorial"
)

// tutorialConfigFor returns the weights file and config.json a model path
// would be read with (model.ResolveModelFiles) when that config selects
// the tutorial's family ("architecture": "vit-pytorch-mae"); ok is false
// otherwise, and the official loader then reads (and reports on) the same
// files.
func tutorialConfigFor(modelPath, configPath string) (weights, config string, ok bool) {
	weights, config, err := model.ResolveModelFiles(modelPath, configPath)
	if err != nil || config == "" {
		return "", "", false
	}
	data, err := fileio.ReadFile(config, model.MaxConfigFileSize)
	if err != nil {
		return "", "", false
	}
	return weights, config, tutorial.IsConfig(data)
}

// runTutorialForward is `webmae forward` for the tutorial's family: loss,
// logits (to_pixels of every decoded token), mask and grad.<key> under the
// tutorial's state_dict keys (+ step_losses, step<N>.<key>).
func runTutorialForward(configPath, modelPath, inputs, out, backendName string, steps int, lr float64) error {
	cfg, err := tutorial.LoadConfig(configPath)
	if err != nil {
		return err
	}
	params, err := tutorial.LoadWeightsFile(modelPath, tutorial.NewLayout(cfg))
	if err != nil {
		return err
	}
	it, _, err := model.LoadSafetensorsFile(inputs)
	if err != nil {
		return err
	}
	in, err := harness.TutorialInputs(it, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", inputs, err)
	}
	k, err := openBackend(backendName)
	if err != nil {
		return err
	}
	defer k.Release()
	res, err := harness.RunTutorial(k, cfg, params, in, steps, lr)
	if err != nil {
		return err
	}
	meta := map[string]string{"backend": k.Name(), "architecture": tutorial.Architecture}
	if err := model.SaveSafetensorsFile(out, res.Names, res.Tensors, meta, nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: loss %.7g, %d tensors written to %s\n", k.Name(), res.Tensors["loss"].F32[0], len(res.Names), out)
	return nil
}
