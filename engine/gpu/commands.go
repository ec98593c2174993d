package gpu

import (
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"
)

// commands records the work of one submit. directCommands calls the
// binding for every command; in the browser, replayCommands
// (replay_js.go) appends them to a list that one JavaScript call encodes
// and submits, because each Go->JS call costs microseconds and a training
// step has hundreds of dispatches of three calls each.
type commands interface {
	open() bool   // something was recorded since the last submit
	begin() error // open the command encoder (and report its creation error)
	setPipeline(p *wgpu.ComputePipeline)
	setBindGroup(g *wgpu.BindGroup, off uint32)
	dispatch(x, y uint32)
	copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error
	submit(arena *wgpu.Buffer, data []byte) error // upload data to arena, finish, submit
	drop()                                        // abandon what was recorded
}

// directCommands issues every command through the binding.
type directCommands struct {
	b       *Backend
	encoder *wgpu.CommandEncoder
	pass    *wgpu.ComputePassEncoder
	offsets [1]uint32
}

func (d *directCommands) open() bool { return d.encoder != nil }

func (d *directCommands) begin() error {
	if d.encoder == nil {
		enc, err := d.b.dev.device.TryCreateCommandEncoder(&wgpu.CommandEncoderDescriptor{Label: "webmae step"})
		if err != nil {
			return fmt.Errorf("gpu: create command encoder: %w", err)
		}
		d.encoder = enc
		d.b.rec.stats.Calls++
	}
	return nil
}

func (d *directCommands) setPipeline(p *wgpu.ComputePipeline) {
	if d.pass == nil {
		d.pass = d.encoder.BeginComputePass(&wgpu.ComputePassDescriptor{Label: "webmae kernels"})
		d.b.rec.stats.Calls++
	}
	d.pass.SetPipeline(p)
	d.b.rec.stats.Calls++
}

func (d *directCommands) setBindGroup(g *wgpu.BindGroup, off uint32) {
	d.offsets[0] = off
	d.pass.SetBindGroup(0, g, d.offsets[:])
	d.b.rec.stats.Calls++
}

func (d *directCommands) dispatch(x, y uint32) {
	d.pass.DispatchWorkgroups(x, y, 1)
	d.b.rec.stats.Calls++
}

func (d *directCommands) endPass() error {
	if d.pass == nil {
		return nil
	}
	err := d.pass.TryEnd()
	d.pass.Release()
	d.pass = nil
	d.b.rec.stats.Calls++
	if err != nil {
		return fmt.Errorf("gpu: compute pass: %w", err)
	}
	return nil
}

func (d *directCommands) copy(src *wgpu.Buffer, srcOff uint64, dst *wgpu.Buffer, dstOff, size uint64) error {
	if err := d.endPass(); err != nil {
		return err
	}
	d.b.rec.stats.Calls++
	return d.encoder.TryCopyBufferToBuffer(src, srcOff, dst, dstOff, size)
}

func (d *directCommands) submit(arena *wgpu.Buffer, data []byte) error {
	if err := d.endPass(); err != nil {
		return err
	}
	if len(data) > 0 {
		if err := d.b.writeBuffer(arena, 0, data); err != nil {
			return fmt.Errorf("gpu: upload kernel parameters: %w", err)
		}
	}
	cmd, err := d.encoder.TryFinish(nil)
	d.encoder.Release()
	d.encoder = nil
	if err != nil {
		return fmt.Errorf("gpu: finish command encoder: %w", err)
	}
	d.b.queue.Submit(cmd)
	cmd.Release()
	d.b.rec.stats.Calls += 3 // upload, finish, submit
	return nil
}

func (d *directCommands) drop() {
	if d.pass != nil {
		_ = d.pass.TryEnd()
		d.pass.Release()
		d.pass = nil
	}
	if d.encoder != nil {
		d.encoder.Release()
		d.encoder = nil
	}
}
