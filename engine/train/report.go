package train

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteCSV writes train.csv: one row per step with the step number
// (1-based), the loss, the learning rate, and the eval MSE and PSNR on the
// steps that were evaluated (empty otherwise).
func (t *Trainer) WriteCSV(w io.Writer) error {
	evals := make(map[int]EvalPoint, len(t.evals))
	for _, e := range t.evals {
		evals[e.Step] = e
	}
	var b strings.Builder
	b.WriteString("step,loss,lr,eval_mse,eval_psnr_db\n")
	for i, loss := range t.losses {
		fmt.Fprintf(&b, "%d,%s,%s,", i+1, strconv.FormatFloat(float64(loss), 'g', -1, 32), strconv.FormatFloat(float64(t.lrs[i]), 'g', -1, 32))
		if e, ok := evals[i+1]; ok {
			fmt.Fprintf(&b, "%.6g,%.4f", e.MSE, e.PSNR)
		} else {
			b.WriteString(",")
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSVG draws the loss curve as a standalone SVG: the per-step loss
// (light), its moving average (dark), the eval MSE points and the
// baselines' eval MSE as dashed lines.
func (t *Trainer) WriteSVG(w io.Writer) error {
	var series []LineSeries
	if n := len(t.losses); n > 0 {
		xs := make([]float64, n)
		raw := make([]float64, n)
		for i, v := range t.losses {
			xs[i], raw[i] = float64(i+1), float64(v)
		}
		series = append(series,
			LineSeries{Name: "loss", X: xs, Y: raw, Color: "#9ecae1", Width: 1},
			LineSeries{Name: "loss (moving average)", X: xs, Y: movingAverage(raw, max(1, n/50)), Color: "#08519c", Width: 2})
	}
	if len(t.evals) > 0 {
		var xs, ys []float64
		for _, e := range t.evals {
			xs, ys = append(xs, float64(e.Step)), append(ys, e.MSE)
		}
		series = append(series, LineSeries{Name: "eval MSE (held out)", X: xs, Y: ys, Color: "#d94801", Width: 2, Points: true})
	}
	last := float64(max(t.Opts.Steps, 1))
	colors := map[string]string{}
	for i, name := range baselineNames {
		colors[name] = []string{"#756bb1", "#31a354"}[i%2]
		if m, ok := t.Baselines[name]; ok {
			series = append(series, LineSeries{Name: "baseline " + name + " (eval)", X: []float64{0, last}, Y: []float64{m.MSE, m.MSE}, Color: colors[name], Width: 1.5, Dashed: true})
		}
	}
	title := fmt.Sprintf("MAE pretraining: %s, batch %d, base lr %g", t.Data.Source, t.Opts.Batch, t.Opts.BaseLR)
	return WriteLineChart(w, title, "step", "MSE (normalised pixels)", 0, last, series)
}

func movingAverage(y []float64, k int) []float64 {
	out := make([]float64, len(y))
	sum := 0.0
	for i, v := range y {
		sum += v
		if i >= k {
			sum -= y[i-k]
		}
		out[i] = sum / float64(min(i+1, k))
	}
	return out
}

// LineSeries is one line of a chart.
type LineSeries struct {
	Name   string
	X, Y   []float64
	Color  string
	Width  float64
	Dashed bool
	Points bool // draw a dot at every point
}

// WriteLineChart writes a 720x400 SVG line chart with axes, ticks and a
// legend; x spans [x0, x1], y spans 0 to the largest finite value (a
// little headroom). Hand-written SVG, no dependency; non-finite points are
// skipped.
func WriteLineChart(w io.Writer, title, xLabel, yLabel string, x0, x1 float64, series []LineSeries) error {
	const W, H, left, right, top, bottom = 720.0, 400.0, 64.0, 16.0, 36.0, 48.0
	yMax := 0.0
	for _, s := range series {
		for _, v := range s.Y {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				yMax = max(yMax, v)
			}
		}
	}
	if yMax == 0 {
		yMax = 1
	}
	yMax *= 1.05
	if x1 <= x0 {
		x1 = x0 + 1
	}
	px := func(x float64) float64 { return left + (x-x0)/(x1-x0)*(W-left-right) }
	py := func(y float64) float64 { return H - bottom - y/yMax*(H-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="12">`+"\n", W, H, W, H)
	fmt.Fprintf(&b, `<rect width="%g" height="%g" fill="#fff"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%g" y="20" font-size="14">%s</text>`+"\n", left, xmlEscape(title))
	for _, v := range niceTicks(0, yMax, 6) {
		y := py(v)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#eee"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, y, W-right, y, left-6, y+4, strconv.FormatFloat(v, 'g', 4, 64))
	}
	for _, v := range niceTicks(x0, x1, 8) {
		x := px(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#999"/><text x="%.1f" y="%g" text-anchor="middle">%s</text>`+"\n",
			x, H-bottom, x, H-bottom+5, x, H-bottom+18, strconv.FormatFloat(v, 'g', 6, 64))
	}
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#333"/><line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#333"/>`+"\n",
		left, top, left, H-bottom, left, H-bottom, W-right, H-bottom)
	fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", (left+W-right)/2, H-10, xmlEscape(xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+H-bottom)/2, xmlEscape(yLabel))
	for i, s := range series {
		var pts strings.Builder
		stride := max(1, len(s.X)/1500) // keep the file small
		for j := 0; j < len(s.X) && j < len(s.Y); j += stride {
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(s.X[j]), py(s.Y[j]))
			if s.Points {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(s.X[j]), py(s.Y[j]), s.Color)
			}
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%g"%s points="%s"/>`+"\n", s.Color, s.Width, dash, strings.TrimSpace(pts.String()))
		ly := top + 8 + 16*float64(i)
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="%s" stroke-width="%g"%s/><text x="%g" y="%g">%s</text>`+"\n",
			W-right-230, ly, W-right-206, ly, s.Color, s.Width, dash, W-right-200, ly+4, xmlEscape(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceTicks returns round tick values covering [lo, hi], about n of them.
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	if !(span > 0) {
		return []float64{lo}
	}
	step := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
