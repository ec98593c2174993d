package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"webmae/engine/fileio"
	"webmae/engine/train"
)

func init() {
	commands["prepare-images"] = command{"flatten transparency and downscale a tree of images into a training directory", runPrepareImages}
}

// runPrepareImages turns every png/jpeg under --src into an RGB PNG under
// --out (transparency composited over --background, longer side at most
// --max-side), named by its path below --src with "/" replaced by "_".
func runPrepareImages(args []string) error {
	flags := flag.NewFlagSet("prepare-images", flag.ContinueOnError)
	src := flags.String("src", "", "directory of png/jpeg images (searched recursively)")
	out := flags.String("out", "", "output directory (created)")
	maxSide := flags.Int("max-side", 192, "longer side of the written images at most this many pixels")
	minSide := flags.Int("min-side", 32, "skip images whose shorter side is below this many pixels")
	bgFlag := flags.String("background", "255,255,255", "R,G,B colour that transparent pixels are composited over")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *src == "" || *out == "" {
		return errors.New("--src and --out are required")
	}
	if *maxSide < *minSide || *minSide < 1 {
		return fmt.Errorf("--min-side %d and --max-side %d: want 1 <= min <= max", *minSide, *maxSide)
	}
	var bg color.RGBA
	if n, err := fmt.Sscanf(*bgFlag, "%d,%d,%d", &bg.R, &bg.G, &bg.B); err != nil || n != 3 {
		return fmt.Errorf("--background %q: want R,G,B with values 0-255", *bgFlag)
	}
	bg.A = 255
	// The outputs are named like the inputs (.png), so writing into the
	// source tree would replace originals.
	if inside, err := fileio.IsWithin(*out, *src); err != nil {
		return err
	} else if inside {
		return fmt.Errorf("--out %s is inside --src %s: refusing to write over the source images (choose a directory outside it)", *out, *src)
	}
	paths, err := train.ImagePaths(*src)
	if err != nil {
		return fmt.Errorf("list %s: %w", *src, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var written, skipped int
	for _, path := range paths {
		ok, err := prepareOne(path, *src, *out, *maxSide, *minSide, bg)
		if err != nil {
			// One unreadable file does not stop a tree of thousands.
			fmt.Fprintf(os.Stderr, "skip %v\n", err)
			skipped++
			continue
		}
		if !ok {
			skipped++
			continue
		}
		written++
	}
	fmt.Printf("%d images written to %s, %d skipped (of %d found)\n", written, *out, skipped, len(paths))
	if written == 0 {
		return fmt.Errorf("no image of %s was usable", *src)
	}
	return nil
}

func prepareOne(path, srcDir, outDir string, maxSide, minSide int, bg color.RGBA) (bool, error) {
	img, err := train.DecodeImageFile(path)
	if err != nil {
		return false, err
	}
	p, err := train.Shrink(train.Flatten(img, bg), maxSide)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if min(p.W, p.H) < minSide {
		return false, nil
	}
	rel, _ := filepath.Rel(srcDir, path)
	name := strings.TrimSuffix(strings.ReplaceAll(rel, string(filepath.Separator), "_"), filepath.Ext(rel)) + ".png"
	rgba := image.NewNRGBA(image.Rect(0, 0, p.W, p.H))
	for i := 0; i < p.W*p.H; i++ {
		copy(rgba.Pix[4*i:4*i+3], p.Pix[3*i:3*i+3])
		rgba.Pix[4*i+3] = 255
	}
	err = fileio.WriteAtomic(filepath.Join(outDir, name), func(w io.Writer) error { return png.Encode(w, rgba) })
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}
