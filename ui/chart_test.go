package ui

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
)

func TestChartPoints(t *testing.T) {
	losses := make([]float32, 1000)
	for i := range losses {
		losses[i] = float32(i)
	}
	pts := chartPoints(losses, 300)
	if len(pts) != 300 {
		t.Fatalf("%d points, want 300", len(pts))
	}
	if last := pts[len(pts)-1]; last.Step != 1000 {
		t.Errorf("last point at step %d, want 1000", last.Step)
	}
	// bucket means: the first bucket holds steps 1..3 (values 0,1,2)
	if pts[0].Loss != 1 || pts[0].Step != 3 {
		t.Errorf("first point %+v, want step 3 loss 1", pts[0])
	}
	if got := chartPoints(losses[:5], 300); len(got) != 5 || got[4].Step != 5 || got[4].Loss != 4 {
		t.Errorf("short history: %+v", got)
	}
}

func TestLossChartSVG(t *testing.T) {
	for _, losses := range [][]float32{nil, {1.5}, {1.5, 1.2, 0.9, 0.95, 0.7}} {
		svg := lossChartSVG(losses, 20)
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Fatalf("%d losses: not well-formed: %v\n%s", len(losses), err, svg)
		}
		if !strings.Contains(svg, `data-testid="loss-chart"`) {
			t.Errorf("%d losses: no test id", len(losses))
		}
		if (len(losses) > 0) != strings.Contains(svg, "<polyline") {
			t.Errorf("%d losses: line drawn = %v", len(losses), !(len(losses) > 0))
		}
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(0.13, 1.42, 4)
	want := []float64{0.25, 0.5, 0.75, 1, 1.25}
	if len(got) != len(want) {
		t.Fatalf("ticks %v, want %v", got, want)
	}
	for i := range got {
		if d := got[i] - want[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("ticks %v, want %v", got, want)
		}
	}
}

func TestSmoothed(t *testing.T) {
	got := smoothed([]float32{2, 2, 2})
	for _, v := range got {
		if v != 2 {
			t.Fatalf("the running mean of a constant is %v", got)
		}
	}
	got = smoothed([]float32{1, 0})
	if want := 0.09 / 0.19; math.Abs(float64(got[1])-want) > 1e-6 {
		t.Errorf("smoothed[1] = %g, want %g", got[1], want)
	}
}
