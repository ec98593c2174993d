package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"webmae/engine/fileio"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// Help of the --model and --config flags, shared by every command that
// loads a model (all through model.LoadModelWithConfig).
const (
	modelFlagHelp = "model: a directory (config.json + model.safetensors or pytorch_model.bin) or a weights file: " +
		".safetensors, or a PyTorch checkpoint .pth/.pt/.bin (Hugging Face or official MAE names)"
	configFlagHelp = "config.json (default: NAME.config.json or config.json beside the model)"
)

func init() {
	commands["convert"] = command{
		summary: "convert a model (.pth/.pt/.bin/.safetensors) into a Hugging Face directory: model.safetensors, config.json, preprocessor_config.json",
		run:     runConvert,
	}
}

func runConvert(args []string) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	modelPath := fs.String("model", "", modelFlagHelp)
	configPath := fs.String("config", "", configFlagHelp)
	out := fs.String("out", "", "output directory (created if needed; files in it are replaced atomically)")
	f16 := fs.Bool("f16", false, "store the trainable tensors as F16 (half the size; the position embeddings stay F32)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *modelPath == "" || *out == "" {
		return errors.New("--model and --out are required")
	}
	if wp, cp, ok := tutorialConfigFor(*modelPath, *configPath); ok {
		return convertTutorial(wp, cp, *out, *f16)
	}
	cfg, params, format, err := model.LoadModelWithConfig(*modelPath, *configPath)
	if err != nil {
		return err
	}
	norm, normNote, err := modelNorm(*modelPath, cfg.NumChannels)
	if err != nil {
		return err
	}
	pre, err := recon.MarshalPreprocessor(norm, cfg.ImageSize)
	if err != nil {
		return err
	}
	if err := writeModelDir(*out, cfg, params, pre, *f16); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%s (%s names, %d parameters) -> %s (Hugging Face ViTMAEForPreTraining; %s)\n",
		*modelPath, format, len(params), *out, normNote)
	return nil
}

// writeModelDir writes model.safetensors, config.json and
// preprocessor_config.json into dir. A new dir appears whole (it is built
// beside it and renamed); in an existing one each file is replaced
// atomically.
func writeModelDir(dir string, cfg model.Config, params []float32, pre []byte, f16 bool) error {
	target := dir
	fresh := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		parent := filepath.Dir(filepath.Clean(dir))
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp) // a no-op after the rename
		target, fresh = tmp, true
	}
	if err := model.SaveModel(target, cfg, model.NewLayout(cfg), params, f16); err != nil {
		return err
	}
	err := fileio.WriteAtomic(filepath.Join(target, recon.PreprocessorFileName), func(w io.Writer) error {
		_, err := w.Write(pre)
		return err
	})
	if err != nil {
		return err
	}
	if fresh {
		if err := os.Chmod(target, 0o755); err != nil {
			return err
		}
		return os.Rename(target, dir)
	}
	return nil
}
