package train

import (
	"errors"
	"fmt"
	"strings"

	"webmae/engine/recon"
)

// A Source is where a run's images come from: a directory of photos
// (DirSource), the Fashion-MNIST IDX files (FashionMNISTSource) or images
// already in memory (MemorySource, the browser's).
type Source interface {
	// Load decodes the images with the model's channel count (1 or 3).
	Load(channels int) (*Dataset, error)
}

// DirSource is a directory of png/jpeg images (see LoadDir).
type DirSource struct {
	Path    string
	Holdout []string // held-out image names; empty: DefaultHoldout
}

// Load implements Source.
func (s DirSource) Load(channels int) (*Dataset, error) { return LoadDir(s.Path, channels, s.Holdout) }

// FashionMNISTSource is a directory with the Fashion-MNIST IDX files (see
// LoadFashionMNIST).
type FashionMNISTSource struct{ Path string }

// Load implements Source.
func (s FashionMNISTSource) Load(channels int) (*Dataset, error) {
	return LoadFashionMNIST(s.Path, channels)
}

// FashionMNISTPrefix marks a --data argument naming a Fashion-MNIST
// directory.
const FashionMNISTPrefix = "fashion-mnist:"

// ParseSource reads a --data argument: "fashion-mnist:PATH" for the
// Fashion-MNIST IDX files in directory PATH (the test set is held out),
// else a directory of png/jpeg images with the given held-out names.
func ParseSource(spec string, holdout []string) (Source, error) {
	if path, ok := strings.CutPrefix(spec, FashionMNISTPrefix); ok {
		if len(holdout) > 0 {
			return nil, errors.New("load data: Fashion-MNIST holds out its test set; no holdout list applies")
		}
		return FashionMNISTSource{Path: path}, nil
	}
	return DirSource{Path: spec, Holdout: holdout}, nil
}

// Limits of a MemorySource: images are shrunk to at most MemorySide
// pixels on their longer side (random resized crops of at least 20% of
// the area of such an image still downscale to the presets' 32 or 64 px
// inputs) and travel with every checkpoint, so their number is bounded.
const (
	MemorySide      = 256
	MaxMemoryImages = 256
)

// MemorySource is a set of decoded images, all used for training (no
// held-out set, so a run on it is not evaluated). The images, shrunk to
// MemorySide, are saved in every checkpoint: the run resumes without them.
type MemorySource struct {
	Name   string // describes the images, for reports
	Images []recon.Pixels
	Names  []string
	Norm   recon.Norm
}

// Load implements Source: each image is converted to the channel count
// and shrunk to MemorySide.
func (s MemorySource) Load(channels int) (*Dataset, error) {
	n := len(s.Images)
	if n == 0 || n != len(s.Names) {
		return nil, fmt.Errorf("images in memory: training needs at least one image (have %d, %d names)", n, len(s.Names))
	}
	if n > MaxMemoryImages {
		return nil, fmt.Errorf("images in memory: %d images, at most %d", n, MaxMemoryImages)
	}
	if err := s.Norm.Validate(channels); err != nil {
		return nil, fmt.Errorf("images in memory: %w", err)
	}
	ds := &Dataset{Source: s.Name, Channels: channels, Norm: s.Norm, Embedded: true,
		TrainNames: append([]string(nil), s.Names...)}
	for i, p := range s.Images {
		p, err := p.WithChannels(channels)
		if err == nil {
			p, err = Shrink(p, MemorySide)
		}
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.Names[i], err)
		}
		ds.Train = append(ds.Train, p)
	}
	return ds, nil
}
