package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"

	"webmae/engine/fileio"
	"webmae/engine/harness"
	"webmae/engine/model"
)

func init() {
	commands["forward"] = command{
		summary: "run forward+backward (and AdamW steps) on given inputs and write every output (PyTorch parity harness)",
		run:     runForward,
	}
}

func runForward(args []string) error {
	fs := flag.NewFlagSet("forward", flag.ContinueOnError)
	modelPath := fs.String("model", "", modelFlagHelp)
	configPath := fs.String("config", "", configFlagHelp)
	inputs := fs.String("inputs", "", "inputs .safetensors with pixel_values (B,C,H,W) and noise (B,L)")
	out := fs.String("out", "", "output .safetensors")
	backendName := fs.String("backend", "cpu", "compute backend: cpu, gpu or auto")
	steps := fs.Int("adamw-steps", 0, "AdamW steps to run on the same batch and noise after the backward pass")
	lr := fs.Float64("lr", 1e-3, "AdamW learning rate for --adamw-steps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *modelPath == "" || *inputs == "" || *out == "" {
		return errors.New("--model, --inputs and --out are required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *steps < 0 || !(*lr > 0) || math.IsInf(*lr, 0) {
		return fmt.Errorf("--adamw-steps %d and --lr %g: want steps >= 0 and a finite lr > 0", *steps, *lr)
	}
	inputsRead := []fileio.Named{{Name: "--model", Path: *modelPath}, {Name: "--config", Path: *configPath}, {Name: "--inputs", Path: *inputs}}
	if wp, cp, err := model.ResolveModelFiles(*modelPath, *configPath); err == nil {
		inputsRead = append(inputsRead, fileio.Named{Name: "the model's weights", Path: wp}, fileio.Named{Name: "the model's config", Path: cp})
	}
	if err := fileio.CheckDistinct([]fileio.Named{{Name: "--out", Path: *out}}, inputsRead); err != nil {
		return err
	}
	if wp, cp, ok := tutorialConfigFor(*modelPath, *configPath); ok {
		return runTutorialForward(cp, wp, *inputs, *out, *backendName, *steps, *lr)
	}
	cfg, params, _, err := model.LoadModelWithConfig(*modelPath, *configPath)
	if err != nil {
		return err
	}
	it, _, err := model.LoadSafetensorsFile(*inputs)
	if err != nil {
		return err
	}
	in, err := harness.InputsFromTensors(it, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", *inputs, err)
	}
	k, err := openBackend(*backendName)
	if err != nil {
		return err
	}
	defer k.Release()
	res, err := harness.Run(k, cfg, params, in, *steps, *lr)
	if err != nil {
		return err
	}
	meta := map[string]string{"backend": k.Name()}
	if err := model.SaveSafetensorsFile(*out, res.Names, res.Tensors, meta, nil); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: loss %.7g, %d tensors written to %s\n", k.Name(), res.Tensors["loss"].F32[0], len(res.Names), *out)
	return nil
}
