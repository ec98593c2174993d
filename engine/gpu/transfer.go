package gpu

import (
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"

	"webmae/engine/backend"
)

// write uploads bytes to a view, after submitting the kernels recorded so
// far so that the write is ordered after them (queue.writeBuffer is
// executed before any later submit).
func (b *Backend) write(dst backend.View, data []byte, what string) {
	buf := b.buffer(dst, what)
	if len(data) == 0 || b.err != nil {
		return
	}
	if b.rec.pending > 0 {
		if err := b.Submit(); err != nil {
			return
		}
	}
	if buf.buf == nil {
		b.fail(fmt.Errorf("gpu: %s: buffer was not created", what))
		return
	}
	if err := b.writeBuffer(buf.buf, uint64(dst.Off)*4, data); err != nil {
		b.fail(fmt.Errorf("gpu: %s: %w", what, err))
	}
}

// Write implements backend.Kernels.
func (b *Backend) Write(dst backend.View, src []float32) {
	if len(src) != dst.Len {
		panic(fmt.Sprintf("gpu: write: %d values into a view of %d", len(src), dst.Len))
	}
	b.write(dst, wgpu.ToBytes(src), "write")
}

// WriteIndex implements backend.Kernels.
func (b *Backend) WriteIndex(dst backend.View, src []int32) {
	if len(src) != dst.Len {
		panic(fmt.Sprintf("gpu: write index: %d values into a view of %d", len(src), dst.Len))
	}
	b.write(dst, wgpu.ToBytes(src), "write index")
}

// Read implements backend.Kernels: it submits pending work, copies the view
// into a staging buffer, maps it and waits.
func (b *Backend) Read(src backend.View, dst []float32) error {
	if len(dst) != src.Len {
		panic(fmt.Sprintf("gpu: read: view of %d into %d values", src.Len, len(dst)))
	}
	buf := b.buffer(src, "read")
	if b.err != nil {
		return b.takeErr()
	}
	if src.Len == 0 {
		return b.Submit()
	}
	size := uint64(src.Len) * 4
	if err := b.ensureStaging(size); err != nil {
		b.fail(err)
		return b.takeErr()
	}
	if err := b.rec.cmd.begin(); err != nil {
		b.fail(err)
		return b.takeErr()
	}
	b.rec.last = nil // the copy ends the compute pass
	if err := b.rec.cmd.copy(buf.buf, uint64(src.Off)*4, b.staging, 0, size); err != nil {
		b.fail(fmt.Errorf("gpu: read: copy to staging: %w", err))
		b.dropEncoder()
		return b.takeErr()
	}
	b.rec.pending++
	if err := b.Submit(); err != nil {
		return err
	}
	var status wgpu.MapAsyncStatus
	done := false
	err := b.staging.TryMapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.MapAsyncStatus) {
		status, done = s, true
	})
	if err == nil {
		err = b.waitMap(&done)
	}
	if err == nil && status != wgpu.MapAsyncStatusSuccess {
		err = fmt.Errorf("map status %v", status)
	}
	if err != nil {
		if lost := b.asyncError(); lost != nil {
			err = lost
		}
		b.fail(fmt.Errorf("gpu: read: map staging buffer: %w", err))
		return b.takeErr()
	}
	copy(dst, wgpu.FromBytes[float32](b.staging.GetMappedRange(0, uint(size))))
	if err := b.staging.TryUnmap(); err != nil {
		b.fail(fmt.Errorf("gpu: read: unmap: %w", err))
		return b.takeErr()
	}
	return nil
}

// ensureStaging makes the readback buffer at least size bytes.
func (b *Backend) ensureStaging(size uint64) error {
	if b.staging != nil && b.stageLen >= size {
		return nil
	}
	n := max(size, 1<<16, 2*b.stageLen)
	if n > b.info.Limits.MaxBufferSize {
		n = size
	}
	if b.staging != nil {
		b.staging.Destroy()
		b.staging.Release()
		b.staging = nil
	}
	buf, err := b.dev.device.TryCreateBuffer(&wgpu.BufferDescriptor{
		Label: "webmae readback",
		Size:  n,
		Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		return fmt.Errorf("gpu: create readback buffer of %d bytes: %w", n, err)
	}
	b.staging, b.stageLen = buf, n
	return nil
}
