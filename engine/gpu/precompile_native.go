//go:build !js

package gpu

import "context"

// createPipelines compiles ks one after the other (the binding has no
// asynchronous pipeline creation natively).
func (b *Backend) createPipelines(ctx context.Context, ks []kernel, progress Progress) error {
	for i, k := range ks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := b.pipeline(k); err != nil {
			return err
		}
		progress(i+1, len(ks))
	}
	return nil
}
