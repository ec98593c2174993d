package model

// ResolveModelFiles returns the weights file of a model path (a file, or a
// directory with model.safetensors or pytorch_model.bin) and its config:
// configPath when given, else the config.json LoadModelWithConfig would
// find beside the weights ("" when there is none). Other model families
// (engine/tutorial) resolve their files the same way.
func ResolveModelFiles(path, configPath string) (weights, config string, err error) {
	if weights, err = resolveWeights(path); err != nil {
		return "", "", err
	}
	if configPath == "" {
		configPath, _ = findConfig(weights)
	}
	return weights, configPath, nil
}
