package ui

import (
	"testing"

	"webmae/engine/cpu"
)

// TestBaseProbeCPU computes the base probe of /selftest?base=1 on the
// native CPU backend: the values the browser's WebGPU result is compared
// with (baseExpected).
func TestBaseProbeCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("base model: 112M parameters, about 2 GB of memory")
	}
	k := cpu.New()
	defer k.Release()
	got, err := baseProbe(k, 1, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("base probe on %s: loss %.8g, mean |prediction| %.8g, MSE %.5f, PSNR %.3f dB; init %.0f ms, forward %.0f ms, %.0f ms",
		k.Name(), got.Loss, got.Checksum, got.MSE, got.PSNR, got.InitMs, got.ForwardMs, got.SecondMs)
	if err := checkBase(got); err != nil {
		t.Error(err)
	}
}
