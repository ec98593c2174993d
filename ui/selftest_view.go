package ui

import (
	"encoding/json"
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Render draws the page: what runs, a summary table (one row per check:
// pass or fail, its figures and time), and the machine-readable result
// behind a "details" toggle.
func (s *SelfTest) Render() app.UI {
	r := s.res
	js, _ := json.MarshalIndent(r, "", "  ")
	title := "WebGPU self-test: PyTorch parity"
	if r.Mode == "base" {
		title = "WebGPU self-test: base model reconstruction"
	}
	return app.Div().Class("app", "selftest", "report").Body(
		app.Header().Class("top").Body(
			app.Div().Class("brand").Body(
				app.A().Href("/").Body(app.Img().Src("/web/icon.svg").Alt("webmae").Width(32).Height(32)),
				app.H1().Text(title),
			),
		),
		app.P().Text("Runs the engine's PyTorch reference check (loss, reconstruction logits, masking, every gradient and three AdamW steps "+
			"of a small MAE, with Hugging Face and official weight names) on this browser's WebGPU adapter and on the CPU backend, "+
			"or, with ?base=1, reconstructs an image with a 112M-parameter base model."),
		app.P().Attr("data-testid", "selftest-adapter").Body(
			app.Strong().Text("Adapter: "),
			app.Text(selfTestAdapterText(r)),
		),
		app.If(s.running != "", func() app.UI {
			return app.P().Class("muted").Attr("data-testid", "selftest-running").Text("Running: " + s.running + "…")
		}),
		app.If(r.Error != "", func() app.UI {
			return app.Div().Class("banner", "error").Role("alert").Text(r.Error)
		}),
		app.H2().Attr("data-testid", "selftest-status").DataSet("status", r.Status).Text(statusText(r)),
		renderSelfTestTable(r),
		app.Details().Class("raw").Body(
			app.Summary().Text("Details: the result as JSON"),
			app.Pre().Attr("data-testid", "selftest-result").DataSet("status", r.Status).Text(string(js)),
		),
	)
}

// statusText is the page's verdict in words.
func statusText(r SelfTestResult) string {
	passed := 0
	for _, c := range r.Cases {
		if c.OK {
			passed++
		}
	}
	switch {
	case r.Status == "running":
		return fmt.Sprintf("Running: %d checks done, %d passed", len(r.Cases), passed)
	case r.Mode == "base" && r.Status == "pass":
		return "Pass: the base model's loss and prediction match the native CPU backend's"
	case r.Mode == "base":
		return "Fail: the base model's reconstruction does not match (see the error)"
	case r.Status == "pass":
		return fmt.Sprintf("Pass: all %d checks agree with PyTorch (%.1f s)", len(r.Cases), r.Ms/1000)
	default:
		return fmt.Sprintf("Fail: %d of %d checks agree with PyTorch", passed, len(r.Cases))
	}
}

// renderSelfTestTable is the summary: a row per reference case on each
// backend, or the base probe's figures.
func renderSelfTestTable(r SelfTestResult) app.UI {
	var rows []app.UI
	for _, c := range r.Cases {
		verdict := "pass"
		if !c.OK {
			verdict = "FAIL"
		}
		figures := append(append(append([]string{}, c.Lines...), c.Failures...), errLine(c.Error)...)
		rows = append(rows, app.Tr().Attr("data-testid", "selftest-case").DataSet("ok", c.OK).Body(
			app.Td().DataSet("label", "Check").Text(c.Name),
			app.Td().DataSet("label", "Backend").Text(c.Backend),
			app.Td().DataSet("label", "Result").Class("verdict").Text(verdict),
			app.Td().DataSet("label", "Time").Class("figure").Text(fmt.Sprintf("%.0f ms", c.Ms)),
			app.Td().DataSet("label", "Figures").Class("muted").Body(figureList(figures)),
		))
	}
	if b := r.Base; b != nil {
		verdict := "pass"
		if r.Status != "pass" {
			verdict = "FAIL"
		}
		rows = append(rows, app.Tr().Attr("data-testid", "selftest-base").DataSet("ok", r.Status == "pass").Body(
			app.Td().DataSet("label", "Check").Text(fmt.Sprintf("base model, %d parameters", b.Params)),
			app.Td().DataSet("label", "Backend").Text("webgpu"),
			app.Td().DataSet("label", "Result").Class("verdict").Text(verdict),
			app.Td().DataSet("label", "Time").Class("figure").Text(fmt.Sprintf("%.0f ms", b.ForwardMs)),
			app.Td().DataSet("label", "Figures").Class("muted").Body(figureList([]string{
				fmt.Sprintf("loss %.7g (native CPU backend %.7g)", b.Loss, b.ExpectedLoss),
				fmt.Sprintf("mean |prediction| %.7g (%.7g)", b.Checksum, b.Expected),
				fmt.Sprintf("masked-patch MSE %.4f, PSNR %.2f dB", b.MSE, b.PSNR),
				fmt.Sprintf("init and upload %.0f ms, first forward %.0f ms, second %.0f ms", b.InitMs, b.ForwardMs, b.SecondMs),
			})),
		))
	}
	return app.Table().Class("summary").Attr("data-testid", "selftest-summary").Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Scope("col").Class("col-name").Text("Check"),
			app.Th().Scope("col").Class("col-short").Text("Backend"),
			app.Th().Scope("col").Class("col-short").Text("Result"),
			app.Th().Scope("col").Class("col-short").Text("Time"),
			app.Th().Scope("col").Text("Figures"),
		)),
		app.TBody().Body(rows...),
	)
}

// figureList shows a check's measurements, one per line.
func figureList(lines []string) app.UI {
	return app.Ul().Class("figures").Body(app.Range(lines).Slice(func(i int) app.UI { return app.Li().Text(lines[i]) }))
}

func errLine(e string) []string {
	if e == "" {
		return nil
	}
	return []string{"error: " + e}
}

// selfTestAdapterText describes the adapter, or why there is none.
func selfTestAdapterText(r SelfTestResult) string {
	if r.Adapter == nil && r.Status != "running" {
		return "none (WebGPU was not tested)"
	}
	return adapterText(r.Adapter)
}

func adapterText(a *SelfTestAdapter) string {
	if a == nil {
		return "(not opened yet)"
	}
	s := a.Name
	if a.Description != "" && a.Description != a.Name {
		s += " · " + a.Description
	}
	if a.Vendor != "" {
		s += " · vendor " + a.Vendor
	}
	if a.Type != "" {
		s += " · " + a.Type
	}
	s += fmt.Sprintf(" · maxStorageBufferBindingSize %d MiB, maxBufferSize %d MiB", a.MaxStorageBufferBindingSize>>20, a.MaxBufferSize>>20)
	return s
}
