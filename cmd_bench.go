package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"webmae/engine/bench"
	"webmae/engine/model"
)

func init() {
	commands["bench"] = command{
		summary: "measure matmul GFLOP/s, attention, training images/s and reconstruction latency",
		run:     runBench,
	}
}

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	backends := fs.String("backend", "cpu", "comma-separated backends to measure (cpu, gpu, auto)")
	sizes := fs.String("matmul", "256,512,1024", "comma-separated square matmul sizes")
	presets := fs.String("presets", "micro,tiny", "comma-separated presets for training steps and reconstruction")
	batch := fs.Int("batch", 32, "training batch size")
	attnPresets := fs.String("attention", "tiny,base", "comma-separated presets for the attention measurement (decoder shape)")
	minTime := fs.Duration("min-time", 2*time.Second, "minimum timed duration of each measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 {
		return fmt.Errorf("--batch must be >= 1")
	}
	ns, err := parseInts(*sizes)
	if err != nil {
		return fmt.Errorf("--matmul: %w", err)
	}
	// first holds the first backend's results by measurement, for ratios.
	first := map[string]bench.Result{}
	for bi, name := range splitList(*backends) {
		k, err := openBackend(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "benchmarking %s\n", k.Name())
		emit := func(r bench.Result, err error) error {
			if err != nil {
				return err
			}
			fmt.Println(r.JSON())
			key := r.Name + " " + r.Shape
			if bi == 0 {
				first[key] = r
			} else if f, ok := first[key]; ok {
				fmt.Println(bench.Ratio(f, r).JSON())
			}
			return nil
		}
		for _, n := range ns {
			if err := emit(bench.Matmul(k, n, *minTime)); err != nil {
				return err
			}
		}
		for _, pn := range splitList(*attnPresets) {
			cfg, err := model.Preset(pn)
			if err != nil {
				return err
			}
			if err := emit(bench.Attention(k, pn, cfg, 1, *minTime)); err != nil {
				return err
			}
		}
		for _, pn := range splitList(*presets) {
			cfg, err := model.Preset(pn)
			if err != nil {
				return err
			}
			if err := emit(bench.TrainStep(k, pn, cfg, *batch, 2, *minTime)); err != nil {
				return err
			}
			if err := emit(bench.Reconstruct(k, pn, cfg, 3, *minTime)); err != nil {
				return err
			}
		}
		k.Release()
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// maxMatMulSize bounds a --matmul size: three n x n float32 matrices of
// 8192 are 768 MiB.
const maxMatMulSize = 8192

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > maxMatMulSize {
			return nil, fmt.Errorf("bad size %q: want 1 to %d", f, maxMatMulSize)
		}
		out = append(out, n)
	}
	return out, nil
}
