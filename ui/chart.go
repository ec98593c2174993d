package ui

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Loss chart geometry (SVG user units; the chart scales to its box).
const (
	chartW, chartH         = 600, 200
	chartLeft, chartRight  = 52, 12
	chartTop, chartBottom  = 12, 28
	chartMaxPoints         = 300
	chartTicksX, chartTick = 5, 4
)

// chartPoint is one plotted point: a step (1-based) and a loss.
type chartPoint struct {
	Step int
	Loss float64
}

// chartPoints reduces a loss history to at most max points by averaging
// consecutive steps in equal buckets (every step when it fits).
func chartPoints(losses []float32, max int) []chartPoint {
	n := len(losses)
	if n == 0 || max < 1 {
		return nil
	}
	buckets := min(n, max)
	out := make([]chartPoint, 0, buckets)
	for b := 0; b < buckets; b++ {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		sum := 0.0
		for _, v := range losses[lo:hi] {
			sum += float64(v)
		}
		out = append(out, chartPoint{Step: hi, Loss: sum / float64(hi-lo)})
	}
	return out
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	// the round step (1, 2, 2.5 or 5 times a power of ten) whose tick
	// count is closest to n, the larger step on ties
	mag := math.Pow(10, math.Floor(math.Log10((hi-lo)/float64(n))))
	step, best := mag, math.Inf(1)
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		s := m * mag
		d := math.Abs(math.Floor(hi/s) - math.Ceil(lo/s) + 1 - float64(n))
		if d <= best {
			step, best = s, d
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

func fmtTick(v float64) string {
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// chartSmoothing is the weight of a new step in the chart's running mean
// (an exponential moving average, bias-corrected as Adam's moments).
const chartSmoothing = 0.1

// smoothed is the bias-corrected exponential moving average of losses.
func smoothed(losses []float32) []float32 {
	out := make([]float32, len(losses))
	avg, w := 0.0, 0.0
	for i, v := range losses {
		avg = (1-chartSmoothing)*avg + chartSmoothing*float64(v)
		w = (1-chartSmoothing)*w + chartSmoothing
		out[i] = float32(avg / w)
	}
	return out
}

// lossChartSVG draws the loss history as an SVG line chart (steps on x,
// loss on y; each step's loss and their running mean), for totalSteps
// planned steps.
func lossChartSVG(losses []float32, totalSteps int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" data-testid="loss-chart" data-points="%d" viewBox="0 0 %d %d" role="img" aria-label="training loss per step" xmlns="http://www.w3.org/2000/svg">`, len(losses), chartW, chartH)
	pw, ph := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	fmt.Fprintf(&b, `<rect class="plot" x="%d" y="%d" width="%g" height="%g"/>`, chartLeft, chartTop, pw, ph)
	pts := chartPoints(losses, chartMaxPoints)
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">the loss of each training step appears here</text></svg>`, chartLeft+pw/2, chartTop+ph/2)
		return b.String()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Loss), math.Max(hi, p.Loss)
	}
	if hi-lo < 1e-6 {
		lo, hi = lo-0.5*math.Max(math.Abs(lo), 1e-3), hi+0.5*math.Max(math.Abs(hi), 1e-3)
	}
	pad := (hi - lo) * 0.05
	lo, hi = lo-pad, hi+pad
	xMax := max(totalSteps, len(losses), 1)
	x := func(step int) float64 { return chartLeft + pw*float64(step)/float64(xMax) }
	y := func(v float64) float64 { return chartTop + ph*(1-(v-lo)/(hi-lo)) }
	for _, t := range niceTicks(lo, hi, chartTick) {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%g" y1="%.1f" y2="%.1f"/>`, chartLeft, chartLeft+pw, y(t), y(t))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, chartLeft-6, y(t), fmtTick(t))
	}
	for _, t := range niceTicks(0, float64(xMax), chartTicksX) {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(int(t)), chartH-8, fmtTick(t))
	}
	line := func(class string, pts []chartPoint) {
		fmt.Fprintf(&b, `<polyline class="%s" points="`, class)
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.Step), y(p.Loss))
		}
		b.WriteString(`"/>`)
	}
	line("raw", pts)
	line("line", chartPoints(smoothed(losses), chartMaxPoints))
	last := pts[len(pts)-1]
	fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="3"><title>%s</title></circle>`, x(last.Step), y(last.Loss),
		html.EscapeString(fmt.Sprintf("step %d: loss %.4f", last.Step, last.Loss)))
	b.WriteString(`</svg>`)
	return b.String()
}
