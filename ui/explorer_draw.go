package ui

import (
	"fmt"
	"html"
	"math"
	"strings"

	"webmae/engine/explore"
)

// heatColor maps v in [0, 1] to an RGB colour of a dark-blue → teal →
// yellow ramp (perceptually ordered, readable on both themes).
func heatColor(v float64) [3]uint8 {
	v = math.Min(math.Max(v, 0), 1)
	stops := [][3]float64{{20, 24, 82}, {33, 145, 140}, {253, 231, 37}}
	f := v * float64(len(stops)-1)
	i := min(int(f), len(stops)-2)
	t := f - float64(i)
	var out [3]uint8
	for c := range out {
		out[c] = uint8(stops[i][c]*(1-t) + stops[i+1][c]*t + 0.5)
	}
	return out
}

// divergingColor maps v in [-1, 1] to blue (negative), white (0) and red
// (positive).
func divergingColor(v float64) [3]uint8 {
	v = math.Min(math.Max(v, -1), 1)
	a := uint8(255 * (1 - math.Abs(v)))
	if v < 0 {
		return [3]uint8{a, a, 255}
	}
	return [3]uint8{255, a, a}
}

// patchOverlay blends a per-patch value (NaN: no value, drawn dimmed) over
// an s x s RGBA image with patches of p pixels, g per side, scaled by the
// largest finite value; patch mark (>= 0) is outlined in white.
func patchOverlay(base []byte, s, g, p int, values []float64, mark int) []byte {
	hi := 0.0
	for _, v := range values {
		if !math.IsNaN(v) {
			hi = math.Max(hi, v)
		}
	}
	out := make([]byte, len(base))
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			i := 4 * (y*s + x)
			patch := (y/p)*g + x/p
			v := values[patch]
			for c := 0; c < 3; c++ {
				b := float64(base[i+c])
				if math.IsNaN(v) {
					out[i+c] = uint8(0.25*b + 0.75*96)
					continue
				}
				col := heatColor(v / math.Max(hi, 1e-30))
				out[i+c] = uint8(0.3*b + 0.7*float64(col[c]))
			}
			out[i+3] = 255
			edge := x%p == 0 || y%p == 0 || x%p == p-1 || y%p == p-1
			if patch == mark && edge {
				out[i], out[i+1], out[i+2] = 255, 255, 255
			}
		}
	}
	return out
}

// tokenRows draws tokens (t x d values) as a heat map, one pixel per
// feature and rowH pixel rows per token, scaled by the largest magnitude;
// rows with mark true get a red band in the first two columns (mask
// tokens). It returns the bytes and the bitmap's height.
func tokenRows(tokens []float32, t, d, rowH int, mark []bool) ([]byte, int) {
	hi := 0.0
	for _, v := range tokens {
		hi = math.Max(hi, math.Abs(float64(v)))
	}
	w := d + 3
	out := make([]byte, 4*w*t*rowH)
	for y := 0; y < t*rowH; y++ {
		r := y / rowH
		for x := 0; x < w; x++ {
			i := 4 * (y*w + x)
			var col [3]uint8
			switch {
			case x < 2 && r < len(mark) && mark[r]:
				col = [3]uint8{220, 40, 40}
			case x < 2:
				col = [3]uint8{200, 200, 200}
			case x == 2:
				col = [3]uint8{255, 255, 255}
			default:
				col = divergingColor(float64(tokens[r*d+x-3]) / math.Max(hi, 1e-30))
			}
			out[i], out[i+1], out[i+2], out[i+3] = col[0], col[1], col[2], 255
		}
	}
	return out, t * rowH
}

// patchMosaic lays out the listed patches of an s x s RGBA image (patch p
// pixels, g per side) cols per row with a gap of white pixels; it returns
// the RGBA bytes and their width and height.
func patchMosaic(base []byte, s, g, p int, patches []int32, cols, gap int) ([]byte, int, int) {
	rows := (len(patches) + cols - 1) / cols
	w, h := cols*p+(cols-1)*gap, rows*p+(rows-1)*gap
	out := make([]byte, 4*w*h)
	for i := range out {
		out[i] = 255
	}
	for n, patch := range patches {
		ox, oy := (n%cols)*(p+gap), (n/cols)*(p+gap)
		py, px := int(patch)/g*p, int(patch)%g*p
		for y := 0; y < p; y++ {
			copy(out[4*((oy+y)*w+ox):4*((oy+y)*w+ox+p)], base[4*((py+y)*s+px):4*((py+y)*s+px+p)])
		}
	}
	return out, w, h
}

// Sweep chart series: each predictor in one colour class, the random
// masks solid and the block-wise masks dashed.
var sweepSeriesClass = map[string]string{explore.PredictorModel: "s-model", "mean-fill": "s-mean", "idw": "s-idw"}

// sweepChartSVG draws the masked-patch MSE against the masking ratio, one
// line per predictor and mask kind; data-points is the number of plotted
// points.
func sweepChartSVG(points []explore.Point) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart sweep" data-testid="sweep-chart" data-points="%d" viewBox="0 0 %d %d" role="img" aria-label="masked-patch MSE against masking ratio" xmlns="http://www.w3.org/2000/svg">`, len(points), chartW, chartH)
	pw, ph := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	fmt.Fprintf(&b, `<rect class="plot" x="%d" y="%d" width="%g" height="%g"/>`, chartLeft, chartTop, pw, ph)
	if len(points) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%g" y="%g" text-anchor="middle">run the sweep to plot MSE against the masking ratio</text></svg>`, chartLeft+pw/2, chartTop+ph/2)
		return b.String()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range points {
		lo, hi = math.Min(lo, p.MSE), math.Max(hi, p.MSE)
	}
	lo = math.Min(lo, 0)
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	hi += (hi - lo) * 0.05
	x := func(r float64) float64 { return chartLeft + pw*r }
	y := func(v float64) float64 { return chartTop + ph*(1-(v-lo)/(hi-lo)) }
	for _, t := range niceTicks(lo, hi, chartTick) {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%g" y1="%.1f" y2="%.1f"/>`, chartLeft, chartLeft+pw, y(t), y(t))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, chartLeft-6, y(t), fmtTick(t))
	}
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(t), chartH-8, fmtTick(t))
	}
	fmt.Fprintf(&b, `<text class="tick" x="%g" y="%d" text-anchor="end">x: masking ratio</text>`, chartLeft+pw-6, chartTop+12)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">y: masked-patch MSE</text>`, chartLeft+6, chartTop+12)
	type key struct{ kind, pred string }
	series := map[key][]explore.Point{}
	var order []key
	for _, p := range points {
		k := key{p.Kind, p.Predictor}
		if _, ok := series[k]; !ok {
			order = append(order, k)
		}
		series[k] = append(series[k], p)
	}
	for _, k := range order {
		class := sweepSeriesClass[k.pred]
		if k.kind == explore.MaskBlock {
			class += " dashed"
		}
		fmt.Fprintf(&b, `<polyline class="%s" points="`, class)
		for i, p := range series[k] {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.Ratio), y(p.MSE))
		}
		b.WriteString(`"/>`)
		for _, p := range series[k] {
			fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="2.5"><title>%s</title></circle>`, sweepSeriesClass[k.pred], x(p.Ratio), y(p.MSE),
				html.EscapeString(fmt.Sprintf("%s, %s masks, ratio %.2f: MSE %.4f", p.Predictor, p.Kind, p.Ratio, p.MSE)))
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}
