package ui

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// Chart geometry shared with the sweep chart (explorer_draw.go), an SVG
// drawn in user units that scales to its box.
const (
	chartW, chartH         = 600, 200
	chartLeft, chartRight  = 52, 12
	chartTop, chartBottom  = 12, 28
	chartMaxPoints         = 300
	chartTicksX, chartTick = 5, 4
)

// lossPlotSize is the loss chart's plot in SVG user units: the plot
// stretches to its box (preserveAspectRatio none, strokes that do not
// scale) while its labels are HTML around it, so they keep their CSS size
// at every width.
const lossPlotSize = 1000

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

// stepTicks returns about n whole-number ticks from 0 to last: multiples
// of the step (1, 2 or 5 times a power of ten, at least 1) whose tick
// count is closest to n, the larger step on ties.
func stepTicks(last, n int) []int {
	if last < 1 || n < 1 {
		return []int{0}
	}
	step, best := 1, math.MaxInt
	for mag := 1; mag <= last; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			s := m * mag
			if d := abs(last/s + 1 - n); d <= best {
				step, best = s, d
			}
		}
	}
	out := make([]int, 0, last/step+1)
	for v := 0; v <= last; v += step {
		out = append(out, v)
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
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

// lossChart is the loss history's chart as HTML (well-formed XML): a
// legend (each step's loss, their running mean), the axis titles, whole
// step ticks on x and round loss ticks on y around an SVG plot, for
// totalSteps planned steps.
func lossChart(losses []float32, totalSteps int) string {
	var b strings.Builder
	label := "training loss per step: no steps yet"
	if n := len(losses); n > 0 {
		label = fmt.Sprintf("training loss per step: %d steps, the last %.4f", n, losses[n-1])
	}
	fmt.Fprintf(&b, `<div class="losschart" data-testid="loss-chart" data-points="%d" role="img" aria-label="%s">`, len(losses), html.EscapeString(label))
	b.WriteString(`<div class="lc-legend"><span class="lc-key raw">loss of each step</span><span class="lc-key mean">running mean</span></div>`)
	b.WriteString(`<div class="frame"><div class="ytitle">loss (masked-patch MSE)</div><div class="plot">`)
	pts := chartPoints(losses, chartMaxPoints)
	if len(pts) == 0 {
		b.WriteString(`<div class="empty">the loss of each training step appears here</div></div><div class="xtitle">step</div></div></div>`)
		return b.String()
	}
	lo, hi := lossRange(pts)
	xMax := max(totalSteps, len(losses), 1)
	// positions in percent of the plot (0 = left or bottom)
	xPct := func(step int) float64 { return 100 * float64(step) / float64(xMax) }
	yPct := func(v float64) float64 { return 100 * (v - lo) / (hi - lo) }
	var ticks strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" preserveAspectRatio="none" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">`, lossPlotSize, lossPlotSize)
	for _, t := range niceTicks(lo, hi, chartTick) {
		y := lossPlotSize * (1 - yPct(t)/100)
		fmt.Fprintf(&b, `<line class="grid" x1="0" x2="%d" y1="%.1f" y2="%.1f" vector-effect="non-scaling-stroke"/>`, lossPlotSize, y, y)
		fmt.Fprintf(&ticks, `<span class="tick y" style="bottom:%.2f%%">%s</span>`, yPct(t), fmtTick(t))
	}
	for _, t := range stepTicks(xMax, chartTicksX) {
		fmt.Fprintf(&ticks, `<span class="tick x" style="left:%.2f%%">%d</span>`, xPct(t), t)
	}
	line := func(class string, pts []chartPoint) {
		fmt.Fprintf(&b, `<polyline class="%s" vector-effect="non-scaling-stroke" points="`, class)
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", xPct(p.Step)*lossPlotSize/100, lossPlotSize*(1-yPct(p.Loss)/100))
		}
		b.WriteString(`"/>`)
	}
	line("raw", pts)
	line("mean", chartPoints(smoothed(losses), chartMaxPoints))
	b.WriteString(`</svg>`)
	b.WriteString(ticks.String())
	last := pts[len(pts)-1]
	fmt.Fprintf(&b, `<span class="dot" style="left:%.2f%%;bottom:%.2f%%" title="%s"></span>`, xPct(last.Step), yPct(last.Loss),
		html.EscapeString(fmt.Sprintf("step %d: loss %.4f", last.Step, last.Loss)))
	b.WriteString(`</div><div class="xtitle">step</div></div></div>`)
	return b.String()
}

// lossRange is the y range of the loss chart: the points' range with 5%
// margins (a flat history gets a range around its value).
func lossRange(pts []chartPoint) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Loss), math.Max(hi, p.Loss)
	}
	if hi-lo < 1e-6 {
		lo, hi = lo-0.5*math.Max(math.Abs(lo), 1e-3), hi+0.5*math.Max(math.Abs(hi), 1e-3)
	}
	pad := (hi - lo) * 0.05
	return lo - pad, hi + pad
}
