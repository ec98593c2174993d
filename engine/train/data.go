package train

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders
	_ "image/png"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"webmae/engine/fileio"
	"webmae/engine/recon"
)

// MaxPixels is the largest image (width x height) the loader decodes; the
// size is read from the header (image.DecodeConfig) before any pixel is.
const MaxPixels = 40_000_000

// MaxImageFileSize bounds an image file's bytes (a 40-megapixel PNG
// without compression is 160 MB).
const MaxImageFileSize = 256 << 20

// Dataset is a training set and a fixed held-out set that training never
// sees, decoded into memory with the channel count of the model.
type Dataset struct {
	// Source describes where the data came from, for reports.
	Source   string
	Channels int
	Train    []recon.Pixels
	Held     []recon.Pixels
	// TrainNames and HeldNames name the images (file names, or
	// "train[i]"/"test[i]" for IDX data).
	TrainNames, HeldNames []string
	// Norm is the normalisation: ImageNet mean/std for RGB, the training
	// images' own mean/std for one channel.
	Norm recon.Norm
	// CropEval says held-out images are evaluated through fixed random
	// resized crops (photos of any size) rather than whole (Fashion-MNIST).
	CropEval bool
	// Embedded says the training images are saved with every checkpoint
	// (a MemorySource's): the run resumes without its source.
	Embedded bool
}

// LoadFashionMNIST reads train-images-idx3-ubyte and
// t10k-images-idx3-ubyte (each optionally .gz) from dir: the training set
// trains, the test set is held out. channels must be 1 (the images are
// gray) or 3 (replicated).
func LoadFashionMNIST(dir string, channels int) (*Dataset, error) {
	ds := &Dataset{Source: "Fashion-MNIST " + dir, Channels: channels}
	for _, part := range []struct {
		file, name string
		dst        *[]recon.Pixels
		names      *[]string
	}{
		{"train-images-idx3-ubyte", "train", &ds.Train, &ds.TrainNames},
		{"t10k-images-idx3-ubyte", "test", &ds.Held, &ds.HeldNames},
	} {
		imgs, rows, cols, err := readIDXFile(filepath.Join(dir, part.file))
		if err != nil {
			return nil, fmt.Errorf("load Fashion-MNIST: %w", err)
		}
		for i, im := range imgs {
			p, err := recon.Pixels{W: cols, H: rows, C: 1, Pix: im}.WithChannels(channels)
			if err != nil {
				return nil, fmt.Errorf("load Fashion-MNIST: %w", err)
			}
			*part.dst = append(*part.dst, p)
			*part.names = append(*part.names, fmt.Sprintf("%s[%d]", part.name, i))
		}
	}
	if len(ds.Train) == 0 || len(ds.Held) == 0 {
		return nil, fmt.Errorf("load Fashion-MNIST %s: %d training and %d test images", dir, len(ds.Train), len(ds.Held))
	}
	if err := ds.setNorm(); err != nil {
		return nil, err
	}
	return ds, nil
}

// imageExts are the file extensions LoadDir decodes.
var imageExts = []string{".png", ".jpg", ".jpeg"}

// ImagePaths lists the png/jpeg files under dir (recursively, by
// extension, other files ignored), sorted.
func ImagePaths(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(path))) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	return paths, nil
}

// LoadDir decodes every png/jpeg file under dir (recursively, other files
// ignored) into Pixels with the given channel count (gray images are
// replicated to RGB, RGB reduced to luma for one channel; alpha is
// dropped). holdout lists base names to hold out; when empty, the
// DefaultHoldout rule picks them. Every file is checked with
// image.DecodeConfig first and refused above MaxPixels.
func LoadDir(dir string, channels int, holdout []string) (*Dataset, error) {
	paths, err := ImagePaths(dir)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	if len(paths) < 2 {
		return nil, fmt.Errorf("load images: %s holds %d png/jpeg files; need at least 2 (one is held out)", dir, len(paths))
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i], _ = filepath.Rel(dir, p)
	}
	if len(holdout) == 0 {
		holdout = DefaultHoldout(names)
	}
	held := make(map[string]bool, len(holdout))
	for _, h := range holdout {
		if !slices.Contains(names, h) {
			return nil, fmt.Errorf("load images: held-out image %q is not in %s", h, dir)
		}
		held[h] = true
	}
	if len(held) == len(names) {
		return nil, fmt.Errorf("load images: every image of %s is held out", dir)
	}
	ds := &Dataset{Source: dir, Channels: channels, CropEval: true}
	for i, path := range paths {
		p, err := DecodeFile(path, channels)
		if err != nil {
			return nil, fmt.Errorf("load images: %w", err)
		}
		if held[names[i]] {
			ds.Held, ds.HeldNames = append(ds.Held, p), append(ds.HeldNames, names[i])
		} else {
			ds.Train, ds.TrainNames = append(ds.Train, p), append(ds.TrainNames, names[i])
		}
	}
	if err := ds.setNorm(); err != nil {
		return nil, err
	}
	return ds, nil
}

// DefaultHoldout is the fixed held-out split of an image directory:
// max(1, n/4) of the n names, those whose FNV-1a 64-bit hash of the name
// is smallest. It depends only on the names, not on their order, and
// adding images moves an image into the held-out set only if its hash is
// among the smallest.
func DefaultHoldout(names []string) []string {
	h := func(s string) uint64 { f := fnv.New64a(); f.Write([]byte(s)); return f.Sum64() }
	sorted := slices.Clone(names)
	slices.SortFunc(sorted, func(a, b string) int {
		ha, hb := h(a), h(b)
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return strings.Compare(a, b)
	})
	n := max(1, len(names)/4)
	return sorted[:n]
}

// DecodeFile decodes a png or jpeg file into Pixels with the given channel
// count, refusing images over MaxPixels before decoding their pixels.
func DecodeFile(path string, channels int) (recon.Pixels, error) {
	img, err := DecodeImageFile(path)
	if err != nil {
		return recon.Pixels{}, err
	}
	p, err := FromImage(img, channels)
	if err != nil {
		return recon.Pixels{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// DecodeImageFile decodes a png or jpeg file, refusing images over
// MaxPixels (read from the header with image.DecodeConfig) before
// decoding their pixels. Errors name the file.
func DecodeImageFile(path string) (image.Image, error) {
	f, _, err := fileio.OpenRegular(path, MaxImageFileSize)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := DecodeImage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// DecodeImage decodes a png or jpeg stream, refusing images over
// MaxPixels (read from the header with image.DecodeConfig) before
// decoding their pixels.
func DecodeImage(r io.ReadSeeker) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("not a decodable png/jpeg image: %w", err)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels || cfg.Width < 1 || cfg.Height < 1 {
		return nil, fmt.Errorf("%s image of %dx%d = %.1f megapixels is over the %d megapixel limit", format, cfg.Width, cfg.Height, float64(px)/1e6, MaxPixels/1_000_000)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", format, err)
	}
	return img, nil
}

// FromImage converts a decoded image to Pixels with the given channel
// count. Gray images keep one channel (replicated for 3); colour images
// take R, G, B of the non-premultiplied colour (alpha dropped, as PIL's
// convert("RGB")), reduced to luma for one channel.
func FromImage(img image.Image, channels int) (recon.Pixels, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var p recon.Pixels
	switch g := img.(type) {
	case *image.Gray:
		p = recon.Pixels{W: w, H: h, C: 1, Pix: make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			copy(p.Pix[y*w:(y+1)*w], g.Pix[y*g.Stride:y*g.Stride+w])
		}
	case *image.Gray16:
		p = recon.Pixels{W: w, H: h, C: 1, Pix: make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				p.Pix[y*w+x] = uint8(g.Gray16At(b.Min.X+x, b.Min.Y+y).Y >> 8)
			}
		}
	default:
		p = recon.Pixels{W: w, H: h, C: 3, Pix: make([]uint8, 3*w*h)}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				i := 3 * (y*w + x)
				p.Pix[i], p.Pix[i+1], p.Pix[i+2] = c.R, c.G, c.B
			}
		}
	}
	return p.WithChannels(channels)
}

// setNorm sets the normalisation: ImageNet for RGB; for one channel the
// mean and (population) standard deviation of every training pixel in
// [0, 1].
func (ds *Dataset) setNorm() error {
	switch ds.Channels {
	case 3:
		ds.Norm = recon.ImageNet()
		return nil
	case 1:
	default:
		return fmt.Errorf("data set: %d channels (want 1 or 3)", ds.Channels)
	}
	var sum, sq float64
	var n int
	for _, p := range ds.Train {
		for _, v := range p.Pix {
			f := float64(v) / 255
			sum += f
			sq += f * f
		}
		n += len(p.Pix)
	}
	mean := sum / float64(n)
	std := math.Sqrt(max(sq/float64(n)-mean*mean, 0))
	if std == 0 {
		return fmt.Errorf("data set %s: every training pixel has the same value", ds.Source)
	}
	ds.Norm = recon.Gray(float32(mean), float32(std))
	return nil
}
