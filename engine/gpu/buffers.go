package gpu

import (
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
)

// Buffer is a WebGPU storage buffer of float32 (or int32) elements.
type Buffer struct {
	owner *Backend
	buf   *wgpu.Buffer // nil when creation failed (the error is recorded)
	n     int
	index bool
	size  uint64 // bytes
}

// Len implements backend.Buffer.
func (b *Buffer) Len() int { return b.n }

// buffer returns the GPU buffer of a view, checking that it belongs to this
// backend and that the view lies inside it (programming errors panic).
func (b *Backend) buffer(v backend.View, what string) *Buffer {
	buf, ok := v.Buf.(*Buffer)
	if !ok || buf.owner != b {
		panic(fmt.Sprintf("gpu: %s: view of a buffer of another backend (%T)", what, v.Buf))
	}
	if v.Off < 0 || v.Len < 0 || v.Off+v.Len > buf.n {
		panic(fmt.Sprintf("gpu: %s: view [%d, %d) outside a buffer of %d elements", what, v.Off, v.Off+v.Len, buf.n))
	}
	return buf
}

// newBuffer creates a zeroed storage buffer of n 4-byte elements.
func (b *Backend) newBuffer(n int, index bool) (*Buffer, error) {
	if n < 0 {
		panic(fmt.Sprintf("gpu: buffer of %d elements", n))
	}
	buf := &Buffer{owner: b, n: n, index: index, size: max(16, (uint64(n)*4+15)&^15)}
	b.buffers = append(b.buffers, buf)
	if buf.size > b.info.Limits.MaxBufferSize {
		return buf, fmt.Errorf("gpu: buffer of %d bytes exceeds the device's maxBufferSize (%d bytes)", uint64(n)*4, b.info.Limits.MaxBufferSize)
	}
	var err error
	buf.buf, err = b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
		Label: fmt.Sprintf("webmae %d elements", n),
		Size:  buf.size,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		buf.buf = nil
		return buf, fmt.Errorf("gpu: create buffer of %d bytes: %w", buf.size, err)
	}
	return buf, nil
}

// TryNewBuffer is NewBuffer that returns the error (e.g. a buffer over the
// device's maxBufferSize) instead of recording it.
func (b *Backend) TryNewBuffer(n int) (*Buffer, error) { return b.newBuffer(n, false) }

// NewBuffer implements backend.Kernels (storage is zero-initialised by
// WebGPU). A failure is returned by the next Submit or Read.
func (b *Backend) NewBuffer(n int) backend.Buffer {
	buf, err := b.newBuffer(n, false)
	if err != nil {
		b.fail(err)
	}
	return buf
}

// NewIndexBuffer implements backend.Kernels.
func (b *Backend) NewIndexBuffer(n int) backend.Buffer {
	buf, err := b.newBuffer(n, true)
	if err != nil {
		b.fail(err)
	}
	return buf
}

// scratchBuffer returns an internal buffer of at least n elements for the
// given use, growing it when needed (the old one stays alive until Release
// because recorded kernels may still reference it).
func (b *Backend) scratchBuffer(name string, n int) *Buffer {
	if s, ok := b.scratch[name]; ok && s.n >= n {
		return s
	}
	s, err := b.newBuffer(max(n, 1), false)
	if err != nil {
		b.fail(err)
	}
	b.scratch[name] = s
	return s
}
