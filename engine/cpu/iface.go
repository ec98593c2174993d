package cpu

import "webmae/engine/backend"

var _ backend.Kernels = (*Backend)(nil)
