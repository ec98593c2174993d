package recon

import (
	"fmt"

	"webmae/engine/model"
)

// Baseline names.
const (
	BaselineMean = "mean-fill"
	BaselineIDW  = "idw"
)

// MeanFill is baseline (a): every removed patch is filled, channel by
// channel, with the mean of the visible pixels of the image. It returns
// the reconstruction (C, H, W) in normalised pixel space; pass it to
// Compose for the metrics.
func MeanFill(cfg model.Config, image []float32, masked []bool) ([]float32, error) {
	c, s, p := cfg.NumChannels, cfg.ImageSize, cfg.PatchSize
	if err := checkBaseline(cfg, image, masked); err != nil {
		return nil, fmt.Errorf("mean-fill baseline: %w", err)
	}
	g := s / p
	out := make([]float32, len(image))
	for ch := 0; ch < c; ch++ {
		plane := image[ch*s*s : (ch+1)*s*s]
		sum, n := 0.0, 0
		for i, v := range plane {
			if !masked[(i/s/p)*g+(i%s)/p] {
				sum += float64(v)
				n++
			}
		}
		mean := float32(sum / float64(n))
		for i, v := range plane {
			if masked[(i/s/p)*g+(i%s)/p] {
				out[ch*s*s+i] = mean
			} else {
				out[ch*s*s+i] = v
			}
		}
	}
	return out, nil
}

func checkBaseline(cfg model.Config, image []float32, masked []bool) error {
	if err := checkGeometry(len(image), cfg.NumChannels, cfg.ImageSize, cfg.ImageSize, cfg.PatchSize); err != nil {
		return err
	}
	if len(masked) != cfg.NumPatches() {
		return fmt.Errorf("mask has %d patches, model %d", len(masked), cfg.NumPatches())
	}
	for _, m := range masked {
		if !m {
			return nil
		}
	}
	return fmt.Errorf("every patch is masked")
}
