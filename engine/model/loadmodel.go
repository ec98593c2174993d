package model

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"webmae/engine/fileio"
)

// LoadModel loads a model from a directory holding config.json and
// model.safetensors or pytorch_model.bin, or from a weights file of any
// supported format (see ReadTensors) with its config beside it (see
// LoadModelWithConfig). The weights may use Hugging Face or official names.
func LoadModel(path string) (Config, []float32, WeightFormat, error) {
	return LoadModelWithConfig(path, "")
}

// LoadModelWithConfig is LoadModel with an explicit config.json path; an
// empty configPath means the config beside the weights: for a directory
// DIR/config.json; for a file NAME.safetensors (or .pth, .pt, .bin) the
// first that exists of
// NAME.config.json, the same with NAME's dotted suffixes removed one by
// one (mae_tiny.timm.safetensors -> mae_tiny.config.json), and config.json
// in the same directory; when there is none, the config is inferred from
// the tensor shapes (see InferConfig: the published sizes).
func LoadModelWithConfig(path, configPath string) (Config, []float32, WeightFormat, error) {
	weightsPath, err := resolveWeights(path)
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %w", err)
	}
	var findErr error
	if configPath == "" {
		configPath, findErr = findConfig(weightsPath)
	}
	var cfg Config
	if configPath != "" {
		if cfg, err = LoadConfig(configPath); err != nil {
			return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartConfig, err))
		}
	}
	tensors, err := LoadTensorsFile(weightsPath)
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartWeights, err))
	}
	if configPath == "" {
		if cfg, err = InferConfig(tensors); err != nil {
			return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartConfig, fmt.Errorf("%w, and %w", findErr, err)))
		}
	}
	params, format, err := LoadWeights(tensors, cfg, NewLayout(cfg))
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %s: %w", weightsPath, loadError(PartMismatch, err))
	}
	return cfg, params, format, nil
}

// LoadModelBytes loads a model from the bytes of a weights file of any
// supported format (see ReadTensors) and of its config.json (for the
// browser, where there is no file system).
//
// Without a config (empty configJSON) the config is inferred from the
// shapes (see InferConfig).
func LoadModelBytes(weights, configJSON []byte) (Config, []float32, WeightFormat, error) {
	tensors, err := ReadTensors(weights)
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartWeights, err))
	}
	var cfg Config
	if len(configJSON) == 0 {
		cfg, err = InferConfig(tensors)
	} else {
		cfg, err = ParseConfig(configJSON)
	}
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartConfig, err))
	}
	params, format, err := LoadWeights(tensors, cfg, NewLayout(cfg))
	if err != nil {
		return Config{}, nil, 0, fmt.Errorf("load model: %w", loadError(PartMismatch, err))
	}
	return cfg, params, format, nil
}

// resolveWeights returns the weights file for a file or directory path: in
// a directory model.safetensors, else pytorch_model.bin.
func resolveWeights(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return path, nil
	}
	for _, name := range []string{ModelFileName, PyTorchModelFileName} {
		p := filepath.Join(path, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s holds neither %s nor %s", path, ModelFileName, PyTorchModelFileName)
}

// weightExtensions are the file name suffixes of weights files.
var weightExtensions = []string{".safetensors", ".pth", ".pt", ".bin"}

// findConfig returns the config.json that belongs to a weights file.
func findConfig(weightsPath string) (string, error) {
	dir := filepath.Dir(weightsPath)
	base := filepath.Base(weightsPath)
	stem := base
	for _, ext := range weightExtensions {
		stem = strings.TrimSuffix(stem, ext)
	}
	var tried []string
	if base != ModelFileName && base != PyTorchModelFileName {
		for {
			tried = append(tried, filepath.Join(dir, stem+".config.json"))
			i := strings.LastIndexByte(stem, '.')
			if i <= 0 {
				break
			}
			stem = stem[:i]
		}
	}
	tried = append(tried, filepath.Join(dir, ConfigFileName))
	for _, p := range tried {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no config for %s (tried %s); pass one explicitly", weightsPath, strings.Join(tried, ", "))
}

// ReadTensors parses the named tensors of a weights file of any supported
// format, told apart by its first bytes: a torch.save checkpoint (zip or
// legacy pickle: .pth, .pt, .bin; see ReadPyTorch) or safetensors.
func ReadTensors(data []byte) (map[string]HostTensor, error) {
	if IsPyTorch(data) {
		return ReadPyTorch(data)
	}
	t, _, err := ReadSafetensors(data)
	return t, err
}

// LoadTensorsFile reads a weights file of any supported format (see
// ReadTensors), refusing files over MaxSafetensorsFileSize.
func LoadTensorsFile(path string) (map[string]HostTensor, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	if fi.Mode().IsRegular() && fi.Size() > MaxSafetensorsFileSize {
		return nil, fmt.Errorf("load weights: %s is %.2f GiB, over the %d GiB limit (store the weights as F16 or use a smaller model)",
			path, float64(fi.Size())/(1<<30), MaxSafetensorsFileSize>>30)
	}
	// A regular file read through the limit: a device, a FIFO or a
	// directory is refused before anything is read.
	data, err := fileio.ReadFile(path, MaxSafetensorsFileSize)
	if err != nil {
		return nil, fmt.Errorf("load weights: %w", err)
	}
	t, err := ReadTensors(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
