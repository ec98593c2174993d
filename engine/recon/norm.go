package recon

import (
	"encoding/json"
	"fmt"
)

// Norm is a per-channel normalisation: x_norm = (x - Mean[c]) / Std[c],
// x in [0, 1]. len(Mean) == len(Std) == the number of channels.
type Norm struct {
	Mean, Std []float32
}

// ImageNet returns the ImageNet mean/std normalisation of RGB images used
// by the official MAE code and by Hugging Face's ViTImageProcessor.
func ImageNet() Norm {
	return Norm{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
}

// Gray returns the normalisation of one-channel images with a given mean
// and standard deviation (a data set's own statistics).
func Gray(mean, std float32) Norm {
	return Norm{Mean: []float32{mean}, Std: []float32{std}}
}

// DefaultNorm is the normalisation assumed for a model with c channels when
// nothing better is known: ImageNet for RGB, and for one channel the mean
// of ImageNet's channel means and standard deviations (0.449, 0.226).
// Models trained by webmae record their normalisation in
// preprocessor_config.json (see ParsePreprocessor).
func DefaultNorm(c int) (Norm, error) {
	switch c {
	case 3:
		return ImageNet(), nil
	case 1:
		return Gray(0.449, 0.226), nil
	}
	return Norm{}, fmt.Errorf("no default normalisation for %d channels (want 1 or 3)", c)
}

// Channels is the number of channels the normalisation is for.
func (n Norm) Channels() int { return len(n.Mean) }

// Validate checks that the normalisation has c channels and positive
// standard deviations.
func (n Norm) Validate(c int) error {
	if len(n.Mean) != c || len(n.Std) != c {
		return fmt.Errorf("normalisation has %d means and %d stds, images have %d channels", len(n.Mean), len(n.Std), c)
	}
	for i, s := range n.Std {
		if !(s > 0) {
			return fmt.Errorf("normalisation std[%d] = %g is not positive", i, s)
		}
	}
	return nil
}

// Normalize maps a (C, H, W) image with values in [0, 1] to normalised
// pixel space, in place, and returns it.
func (n Norm) Normalize(img []float32) []float32 {
	plane := len(img) / len(n.Mean)
	for c := range n.Mean {
		m, s := n.Mean[c], n.Std[c]
		for i, v := range img[c*plane : (c+1)*plane] {
			img[c*plane+i] = (v - m) / s
		}
	}
	return img
}

// Denormalize maps a normalised (C, H, W) image back to [0, 1] scale (not
// clamped), in place, and returns it.
func (n Norm) Denormalize(img []float32) []float32 {
	plane := len(img) / len(n.Mean)
	for c := range n.Mean {
		m, s := n.Mean[c], n.Std[c]
		for i, v := range img[c*plane : (c+1)*plane] {
			img[c*plane+i] = v*s + m
		}
	}
	return img
}

// preprocessorFile is the subset of Hugging Face's
// preprocessor_config.json (ViTImageProcessor) that webmae reads and writes.
type preprocessorFile struct {
	DoNormalize        bool           `json:"do_normalize"`
	DoRescale          bool           `json:"do_rescale"`
	DoResize           bool           `json:"do_resize"`
	ImageMean          []float32      `json:"image_mean"`
	ImageStd           []float32      `json:"image_std"`
	ImageProcessorType string         `json:"image_processor_type"`
	Resample           int            `json:"resample"`
	RescaleFactor      float64        `json:"rescale_factor"`
	Size               map[string]int `json:"size"`
}

// PreprocessorFileName is the Hugging Face file that records the
// normalisation next to config.json.
const PreprocessorFileName = "preprocessor_config.json"

// MarshalPreprocessor returns a Hugging Face preprocessor_config.json
// (ViTImageProcessor, bicubic resize to size x size) recording n.
func MarshalPreprocessor(n Norm, size int) ([]byte, error) {
	f := preprocessorFile{
		DoNormalize: true, DoRescale: true, DoResize: true,
		ImageMean: n.Mean, ImageStd: n.Std,
		ImageProcessorType: "ViTImageProcessor", Resample: 3, RescaleFactor: 1.0 / 255,
		Size: map[string]int{"height": size, "width": size},
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal preprocessor config: %w", err)
	}
	return append(b, '\n'), nil
}

// MaxPreprocessorFileSize bounds preprocessor_config.json (a real one is
// under 1 KB).
const MaxPreprocessorFileSize = 1 << 20

// ParsePreprocessor reads the normalisation of a Hugging Face
// preprocessor_config.json for images with c channels. A file whose mean
// and std have 3 values used with a 1-channel model is an error.
func ParsePreprocessor(data []byte, c int) (Norm, error) {
	var f preprocessorFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Norm{}, fmt.Errorf("parse preprocessor config: %w", err)
	}
	if f.ImageMean == nil && f.ImageStd == nil {
		return DefaultNorm(c)
	}
	n := Norm{Mean: f.ImageMean, Std: f.ImageStd}
	if err := n.Validate(c); err != nil {
		return Norm{}, fmt.Errorf("preprocessor config: %w", err)
	}
	return n, nil
}
