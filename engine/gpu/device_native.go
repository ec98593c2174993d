//go:build !js

package gpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/oliverbestmann/webgpu/wgpu"
)

// wgslEnablesSubgroups: wgpu-native's WGSL compiler (naga) rejects the
// `enable subgroups;` directive ("not yet supported") and accepts subgroup
// operations on a device opened with the subgroup feature.
const wgslEnablesSubgroups = false

// device holds the platform handles.
type device struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
}

func (d *device) release() {
	if d == nil {
		return
	}
	if d.device != nil {
		d.device.Release()
	}
	if d.adapter != nil {
		d.adapter.Release()
	}
	if d.instance != nil {
		d.instance.Release()
	}
}

// openDevice finds an adapter (Vulkan first, so that Mesa's lavapipe is
// preferred to the OpenGL llvmpipe adapter on GPU-less Linux; then any
// backend) and opens a device with the adapter's larger buffer and
// workgroup limits.
//
// The binding cannot register a device-lost callback natively (it passes a
// Go pointer inside a Go-allocated descriptor, which cgo rejects), so device
// loss is inferred from the errors wgpu-native returns (see classify).
func openDevice(ctx context.Context) (*device, Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	// The instance is made with a nil descriptor: the binding's
	// CreateInstance copies a descriptor into uninitialised C memory and
	// leaves fields of WGPUInstanceExtras unset (a second instance in a
	// process then crashes wgpu-native with garbage GL options). The backend
	// is chosen per adapter request instead, which is fully initialised.
	d := &device{instance: wgpu.CreateInstance(nil)}
	var err error
	for _, bt := range []wgpu.BackendType{wgpu.BackendTypeVulkan, wgpu.BackendTypeUndefined} {
		d.adapter, err = d.instance.RequestAdapter(&wgpu.RequestAdapterOptions{
			PowerPreference: wgpu.PowerPreferenceHighPerformance,
			BackendType:     bt,
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		d.release()
		return nil, Info{}, fmt.Errorf("gpu: no WebGPU adapter (wgpu-native found none on Vulkan or any other backend): %w", err)
	}

	al := d.adapter.GetLimits()
	ai := d.adapter.GetInfo()
	info := Info{
		Adapter:     ai.Device,
		Vendor:      ai.Vendor,
		Description: ai.Description,
		Backend:     ai.BackendType.String(),
		AdapterType: ai.AdapterType.String(),
	}
	if info.Adapter == "" {
		info.Adapter = ai.Vendor
	}
	var features []wgpu.FeatureName
	for _, f := range d.adapter.GetFeatures() {
		info.Features = append(info.Features, f.String())
		if f == wgpu.NativeFeatureSubgroup {
			// wgpu-native's name for WebGPU's `subgroups`: requested only
			// where the adapter has it (the reductions then use subgroup
			// operations, see shaders.Variant).
			features = append(features, f)
			info.Subgroups = true
		}
	}

	// Start from "undefined" (WebGPU defaults) and raise what we use to the
	// adapter's values. Device.GetLimits crashes in this binding version, so
	// the granted limits are taken to be the requested ones.
	req := wgpu.DefaultLimits()
	req.MaxPushConstantSize = 0
	req.MaxStorageBufferBindingSize = al.MaxStorageBufferBindingSize
	req.MaxBufferSize = al.MaxBufferSize
	req.MinStorageBufferOffsetAlignment = al.MinStorageBufferOffsetAlignment
	req.MinUniformBufferOffsetAlignment = al.MinUniformBufferOffsetAlignment
	req.MaxComputeWorkgroupStorageSize = al.MaxComputeWorkgroupStorageSize
	req.MaxComputeInvocationsPerWorkgroup = al.MaxComputeInvocationsPerWorkgroup
	req.MaxComputeWorkgroupSizeX = al.MaxComputeWorkgroupSizeX
	req.MaxComputeWorkgroupSizeY = al.MaxComputeWorkgroupSizeY
	req.MaxComputeWorkgroupsPerDimension = al.MaxComputeWorkgroupsPerDimension
	req.MaxStorageBuffersPerShaderStage = al.MaxStorageBuffersPerShaderStage
	info.Limits = Limits{
		MaxStorageBufferBindingSize:     al.MaxStorageBufferBindingSize,
		MaxBufferSize:                   al.MaxBufferSize,
		MinStorageBufferOffsetAlignment: al.MinStorageBufferOffsetAlignment,
		MinUniformBufferOffsetAlignment: al.MinUniformBufferOffsetAlignment,
		MaxComputeWorkgroupStorageSize:  al.MaxComputeWorkgroupStorageSize,
		MaxComputeInvocationsPerWG:      al.MaxComputeInvocationsPerWorkgroup,
		MaxComputeWorkgroupsPerDim:      al.MaxComputeWorkgroupsPerDimension,
		MaxStorageBuffersPerStage:       al.MaxStorageBuffersPerShaderStage,
	}
	d.device, err = d.adapter.RequestDevice(&wgpu.DeviceDescriptor{
		Label:            "webmae",
		RequiredLimits:   &req,
		RequiredFeatures: features,
	})
	if err != nil {
		d.release()
		return nil, Info{}, fmt.Errorf("gpu: request device on %s (%s): %w", info.Adapter, info.Backend, err)
	}
	return d, info, nil
}

// errorScope runs fn; natively every Try* call of the binding already runs
// inside its own validation error scope and returns the error.
func (b *Backend) errorScope(fn func() error) error { return fn() }

// compilationError reports shader compile messages natively: wgpu-native
// returns them from TryCreateShaderModule already, so there is nothing more.
func (b *Backend) compilationError(*wgpu.ShaderModule) error { return nil }

// waitMap waits until a mapAsync issued before it completes.
func (b *Backend) waitMap(done *bool) error {
	for i := 0; !*done; i++ {
		b.dev.device.Poll(true, nil)
		if i > 1000 {
			return errors.New("gpu: buffer map never completed")
		}
	}
	return nil
}

// asyncError reports errors the platform delivers out of band (device loss,
// uncaptured validation errors). Natively the binding offers no callback for
// either (see openDevice): errors come back from the Try* calls instead.
func (b *Backend) asyncError() error { return nil }

// writeBuffer copies data into buf at byte offset off.
func (b *Backend) writeBuffer(buf *wgpu.Buffer, off uint64, data []byte) error {
	return b.queue.TryWriteBuffer(buf, off, data)
}

// newReplay: natively every command goes to wgpu-native directly.
func newReplay(*Backend) commands { return nil }
