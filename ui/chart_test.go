package ui

import (
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
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

func TestLossChart(t *testing.T) {
	for _, losses := range [][]float32{nil, {1.5}, {1.5, 1.2, 0.9, 0.95, 0.7}} {
		chart := lossChart(losses, 20)
		if err := xml.Unmarshal([]byte(chart), new(struct{})); err != nil {
			t.Fatalf("%d losses: not well-formed: %v\n%s", len(losses), err, chart)
		}
		for _, want := range []string{`data-testid="loss-chart"`, `>step<`, `>loss (masked-patch MSE)<`, `>loss of each step<`, `>running mean<`} {
			if !strings.Contains(chart, want) {
				t.Errorf("%d losses: no %s in\n%s", len(losses), want, chart)
			}
		}
		if (len(losses) > 0) != strings.Contains(chart, "<polyline") {
			t.Errorf("%d losses: line drawn = %v", len(losses), !(len(losses) > 0))
		}
	}
	// 20 planned steps: x ticks 0, 5, ..., 20 (whole steps), at their
	// share of the plot's width
	chart := lossChart([]float32{1.5, 1.2, 0.9}, 20)
	xTick := regexp.MustCompile(`<span class="tick x" style="left:([0-9.]+)%">([^<]*)</span>`)
	var got []string
	for _, m := range xTick.FindAllStringSubmatch(chart, -1) {
		got = append(got, m[2]+"@"+m[1])
	}
	if want := "0@0.00 5@25.00 10@50.00 15@75.00 20@100.00"; strings.Join(got, " ") != want {
		t.Errorf("x ticks %q, want %q", strings.Join(got, " "), want)
	}
}

func TestStepTicks(t *testing.T) {
	for _, c := range []struct {
		last int
		want string
	}{
		{1, "[0 1]"}, {3, "[0 1 2 3]"}, {10, "[0 2 4 6 8 10]"}, {20, "[0 5 10 15 20]"},
		{25, "[0 5 10 15 20 25]"}, {200, "[0 50 100 150 200]"}, {2500, "[0 500 1000 1500 2000 2500]"},
	} {
		if got := fmt.Sprint(stepTicks(c.last, chartTicksX)); got != c.want {
			t.Errorf("stepTicks(%d) = %s, want %s", c.last, got, c.want)
		}
	}
	// every count of steps gets whole ticks, 0 first, in equal steps, at
	// most the last step, and between 3 and 11 of them
	for last := 1; last <= 5000; last++ {
		ticks := stepTicks(last, chartTicksX)
		if ticks[0] != 0 || ticks[len(ticks)-1] > last || (last >= 2 && (len(ticks) < 3 || len(ticks) > 11)) {
			t.Fatalf("stepTicks(%d) = %v", last, ticks)
		}
		for i := 2; i < len(ticks); i++ {
			if ticks[i]-ticks[i-1] != ticks[1] {
				t.Fatalf("stepTicks(%d) = %v: unequal steps", last, ticks)
			}
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
