package ui

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/explore"
)

func TestSweepChartSVG(t *testing.T) {
	if got := sweepChartSVG(nil); !strings.Contains(got, `data-points="0"`) || !strings.Contains(got, "run the sweep") {
		t.Fatalf("empty chart: %s", got)
	}
	var pts []explore.Point
	for _, kind := range []string{explore.MaskRandom, explore.MaskBlock} {
		for _, r := range []float64{0.1, 0.5, 0.9} {
			for i, pred := range explore.Predictors {
				pts = append(pts, explore.Point{Ratio: r, Kind: kind, Predictor: pred, MSE: r + float64(i)})
			}
		}
	}
	svg := sweepChartSVG(pts)
	if !strings.Contains(svg, `data-points="18"`) {
		t.Fatalf("data-points: %s", svg[:200])
	}
	if n := len(regexp.MustCompile(`<polyline`).FindAllString(svg, -1)); n != 6 {
		t.Fatalf("%d lines, want 6 (3 predictors x 2 mask kinds)", n)
	}
	if n := strings.Count(svg, "<circle"); n != 18 {
		t.Fatalf("%d points drawn, want 18", n)
	}
	if n := strings.Count(svg, `class="s-model dashed"`); n != 1 {
		t.Fatalf("%d dashed model lines, want 1", n)
	}
}

func TestPatchOverlay(t *testing.T) {
	const s, g, p = 4, 2, 2
	base := make([]byte, 4*s*s)
	for i := range base {
		base[i] = 200
	}
	vals := []float64{0, 1, math.NaN(), 0.5}
	out := patchOverlay(base, s, g, p, vals, 1)
	px := func(x, y int) []byte { return out[4*(y*s+x) : 4*(y*s+x)+4] }
	if c := px(2, 0); c[0] != 255 || c[1] != 255 || c[2] != 255 {
		t.Fatalf("marked patch edge %v, want white", c)
	}
	// NaN patch: dimmed grey, the same in every channel.
	if c := px(0, 2); c[0] != c[1] || c[1] != c[2] || c[0] != uint8(0.25*200+0.75*96) {
		t.Fatalf("no-value patch %v", c)
	}
	lo, hi := heatColor(0), heatColor(1)
	if c := px(0, 0); c[2] != uint8(0.3*200+0.7*float64(lo[2])) {
		t.Fatalf("zero patch %v, ramp start %v", c, lo)
	}
	if c := px(3, 3); c[3] != 255 || hi[0] < 200 {
		t.Fatalf("alpha %d / ramp end %v", c[3], hi)
	}
}

func TestLinkHelpers(t *testing.T) {
	st, ok, err := explore.ParseState("image=sample-" + Samples[1].Name + "&ratio=0.5&seed=9&block=1&model=micro")
	if err != nil || !ok {
		t.Fatal(err)
	}
	s, err := linkedSample(st)
	if err != nil || s.Name != Samples[1].Name {
		t.Fatalf("sample %v, %v", s.Name, err)
	}
	if _, err := linkedSample(explore.State{Image: "upload-3"}); err == nil {
		t.Fatal("an upload in a link: no error")
	}
	m := linkedMask(st, maskState{Ratio: DefaultRatio, Seed: 1})
	if m.Ratio != 0.5 || m.Seed != 9 || !m.Block || m.Hand != nil {
		t.Fatalf("mask %+v", m)
	}
	lm, err := linkedModel(cpu.New(), st)
	if err != nil || lm == nil || describeConfig(lm.Config) != "micro" || linkModelKey(lm) != "micro" {
		t.Fatalf("linked model: %v", err)
	}
	if lm, err := linkedModel(cpu.New(), explore.State{Model: "default"}); lm != nil || err != nil {
		t.Fatal("default model: want the bundled one (nil)")
	}
	if _, err := linkedModel(cpu.New(), explore.State{Model: "huge"}); err == nil {
		t.Fatal("unknown model: no error")
	}
}
