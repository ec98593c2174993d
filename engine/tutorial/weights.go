package tutorial

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"webmae/engine/fileio"
	"webmae/engine/model"
)

// LoadWeights fills a flat parameter buffer from a state_dict under the
// tutorial's keys. The patch embedding may come under its canonical keys
// (encoder.to_patch_embedding.{1,2,3}.*), its alias (patch_to_emb.{0,1,2}.*)
// or both, which must then be equal. Every other key must be in the
// layout with its shape and hold finite values; missing, mis-shaped,
// unexpected and non-finite tensors are reported together
// (model.LoadProblems).
func LoadWeights(tensors map[string]model.HostTensor, lay *Layout) ([]float32, error) {
	params := make([]float32, lay.Total)
	var probs model.LoadProblems
	var conflicting []string
	used := make(map[string]bool, len(tensors))
	for _, t := range lay.Tensors {
		name := t.Name
		src, ok := tensors[name]
		alias := aliasOf(name)
		if a, aok := tensors[alias]; aok && alias != "" {
			used[alias] = true
			switch {
			case !ok:
				src, ok, name = a, true, alias
			case !slices.Equal(a.Shape, src.Shape) || !slices.Equal(a.F32, src.F32) || a.IsInt() != src.IsInt():
				conflicting = append(conflicting, alias)
			}
		}
		if !ok {
			probs.Missing = append(probs.Missing, t.Name)
			continue
		}
		used[name] = true
		if probs.Accept(name, t.Shape, src) {
			copy(params[t.Off:t.Off+t.Len], src.F32)
		}
	}
	for name := range tensors {
		if !used[name] {
			probs.Unexpected = append(probs.Unexpected, name)
		}
	}
	probs.Add("aliases that differ from their encoder.to_patch_embedding tensor", conflicting)
	if err := probs.Err(len(lay.Tensors)); err != nil {
		return nil, fmt.Errorf("tutorial weights: %w", err)
	}
	return params, nil
}

// aliasOf returns the patch_to_emb name of a canonical patch-embedding key
// (encoder.to_patch_embedding.N.x -> patch_to_emb.(N-1).x), else "".
func aliasOf(name string) string {
	rest, ok := strings.CutPrefix(name, canonicalPatchPrefix)
	if !ok || len(rest) < 2 || rest[0] < '1' || rest[0] > '3' || rest[1] != '.' {
		return ""
	}
	return aliasPatchPrefix + string(rest[0]-1) + rest[1:]
}

// ParamsToTensors splits a flat buffer into the tutorial's tensors under
// their canonical keys, in layout order (the patch_to_emb aliases are not
// written: see the README on loading the export into PyTorch).
func ParamsToTensors(params []float32, lay *Layout) ([]string, map[string]model.HostTensor) {
	names := make([]string, 0, len(lay.Tensors))
	out := make(map[string]model.HostTensor, len(lay.Tensors))
	for _, t := range lay.Tensors {
		names = append(names, t.Name)
		out[t.Name] = model.HostTensor{Shape: slices.Clone(t.Shape), F32: slices.Clone(params[t.Off : t.Off+t.Len])}
	}
	return names, out
}

// WriteWeights writes the parameters as safetensors under the tutorial's
// keys (float32).
func WriteWeights(w io.Writer, cfg Config, lay *Layout, params []float32) error {
	if len(params) != lay.Total {
		return fmt.Errorf("write tutorial weights: %d values, layout has %d", len(params), lay.Total)
	}
	names, tensors := ParamsToTensors(params, lay)
	meta := map[string]string{"format": "pt", "architecture": Architecture}
	return model.WriteSafetensors(w, names, tensors, meta, nil)
}

// SaveModel writes DIR/model.safetensors and DIR/config.json.
func SaveModel(dir string, cfg Config, lay *Layout, params []float32) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save tutorial model: %w", err)
	}
	err := fileio.WriteAtomic(filepath.Join(dir, "model.safetensors"), func(w io.Writer) error {
		return WriteWeights(w, cfg, lay, params)
	})
	if err != nil {
		return fmt.Errorf("save tutorial model: %w", err)
	}
	cj, err := cfg.Marshal()
	if err != nil {
		return err
	}
	err = fileio.WriteAtomic(filepath.Join(dir, model.ConfigFileName), func(w io.Writer) error {
		_, err := w.Write(cj)
		return err
	})
	if err != nil {
		return fmt.Errorf("save tutorial model: %w", err)
	}
	return nil
}

// ReadWeights parses a tutorial state_dict file's bytes (safetensors or a
// torch.save checkpoint: model.ReadTensors) into a flat parameter buffer of
// lay.
func ReadWeights(data []byte, lay *Layout) ([]float32, error) {
	tensors, err := model.ReadTensors(data)
	if err != nil {
		return nil, err
	}
	return LoadWeights(tensors, lay)
}

// LoadWeightsFile reads a tutorial state_dict file (safetensors or
// torch.save, within model.LoadTensorsFile's size limit).
func LoadWeightsFile(path string, lay *Layout) ([]float32, error) {
	tensors, err := model.LoadTensorsFile(path)
	if err != nil {
		return nil, err
	}
	params, err := LoadWeights(tensors, lay)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return params, nil
}
