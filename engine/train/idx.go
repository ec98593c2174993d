package train

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"webmae/engine/fileio"
)

// idxImagesMagic is the IDX magic number of an unsigned-byte tensor with
// three dimensions (images x rows x columns).
const idxImagesMagic = 0x00000803

// maxIDXImages bounds the image count read from an IDX header, and
// MaxIDXBytes the pixel bytes it announces (Fashion-MNIST's training set
// is 47 MB) and the file's own size, so that neither a header nor a gzip
// stream can make the reader allocate without bound.
const (
	maxIDXImages = 10_000_000
	MaxIDXBytes  = 1 << 30
)

// ReadIDXImages reads an IDX image file (MNIST/Fashion-MNIST format:
// big-endian magic 0x00000803, count, rows, columns, then the bytes),
// gzip-compressed or not. It returns the images as 1-channel Pixels.
func ReadIDXImages(r io.Reader) (images [][]uint8, rows, cols int, err error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("idx: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var hdr [4]uint32
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return nil, 0, 0, fmt.Errorf("idx header: %w", err)
	}
	if hdr[0] != idxImagesMagic {
		return nil, 0, 0, fmt.Errorf("idx: magic %#08x is not an image file (%#08x)", hdr[0], idxImagesMagic)
	}
	n, rows, cols := int(hdr[1]), int(hdr[2]), int(hdr[3])
	if n > maxIDXImages || rows < 1 || cols < 1 || rows > 4096 || cols > 4096 {
		return nil, 0, 0, fmt.Errorf("idx: implausible shape %d x %d x %d", n, rows, cols)
	}
	if total := int64(n) * int64(rows) * int64(cols); total > MaxIDXBytes {
		return nil, 0, 0, fmt.Errorf("idx: %d images of %d x %d are %d bytes, over the %d-byte limit", n, rows, cols, total, MaxIDXBytes)
	}
	// Images are allocated as they are read, so a header that announces
	// more than the stream holds fails at the end of the data.
	for i := 0; i < n; i++ {
		im := make([]uint8, rows*cols)
		if _, err := io.ReadFull(br, im); err != nil {
			return nil, 0, 0, fmt.Errorf("idx: image %d of %d: %w", i, n, err)
		}
		images = append(images, im)
	}
	return images, rows, cols, nil
}

// WriteIDXImages writes images (each rows*cols bytes) as a gzip-compressed
// IDX image file.
func WriteIDXImages(w io.Writer, images [][]uint8, rows, cols int) error {
	zw := gzip.NewWriter(w)
	hdr := [4]uint32{idxImagesMagic, uint32(len(images)), uint32(rows), uint32(cols)}
	if err := binary.Write(zw, binary.BigEndian, hdr); err != nil {
		return fmt.Errorf("write idx: %w", err)
	}
	for i, im := range images {
		if len(im) != rows*cols {
			return fmt.Errorf("write idx: image %d has %d bytes, want %d", i, len(im), rows*cols)
		}
		if _, err := zw.Write(im); err != nil {
			return fmt.Errorf("write idx: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write idx: %w", err)
	}
	return nil
}

// readIDXFile opens the first existing of path and path+".gz".
func readIDXFile(path string) ([][]uint8, int, int, error) {
	f, _, err := fileio.OpenRegular(path, MaxIDXBytes)
	if errors.Is(err, os.ErrNotExist) {
		f, _, err = fileio.OpenRegular(path+".gz", MaxIDXBytes)
	}
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	images, rows, cols, err := ReadIDXImages(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return images, rows, cols, nil
}
