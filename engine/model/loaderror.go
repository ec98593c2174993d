package model

// LoadPart is the part of a model that could not be loaded.
type LoadPart int

const (
	// PartWeights: the weights file is not a readable safetensors or
	// PyTorch file (another format, truncated or damaged).
	PartWeights LoadPart = iota + 1
	// PartConfig: config.json is not valid JSON or not a valid ViTMAE
	// config.
	PartConfig
	// PartMismatch: the weights do not fit the config (missing or
	// unexpected tensors, other shapes).
	PartMismatch
)

// LoadError is a model that could not be loaded, with the part at fault,
// so that a program can tell a person what to do (choose another file, the
// matching config). Its text is the cause's.
type LoadError struct {
	Part LoadPart
	Err  error
}

func (e *LoadError) Error() string { return e.Err.Error() }
func (e *LoadError) Unwrap() error { return e.Err }

// loadError marks err (when not nil) as a failure of part.
func loadError(part LoadPart, err error) error {
	if err == nil {
		return nil
	}
	return &LoadError{Part: part, Err: err}
}
