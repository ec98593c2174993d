package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The page as the server prerenders it, through go-app's engine: every
// component is in place with the element ids and data attributes the
// browser tests (e2e/tests) and the stylesheet rely on, and the training
// lifecycle starts idle.
func TestPagePrerender(t *testing.T) {
	e := app.NewTestEngine()
	page := &Page{}
	if err := e.Load(page); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	html := app.HTMLString(page)
	var want []string
	for _, id := range []string{"backend", "model-status", "loading", "mask-ratio", "mask-reroll", "mask-block",
		"recon-mse", "recon-psnr", "image-input", "train-preset", "train-batch", "train-steps", "train-lr",
		"train-warmup", "train-start", "train-pause", "train-stop", "train-stats", "train-step", "train-loss",
		"train-preview", "loss-chart", "model-input", "model-download"} {
		want = append(want, `data-testid="`+id+`"`)
	}
	for _, id := range append(panelIDs[:], previewIDs[:]...) {
		want = append(want, `id="`+id+`"`)
	}
	for _, s := range Samples {
		want = append(want, `data-testid="sample-`+s.Name+`"`, `data-key="sample-`+s.Name+`"`)
	}
	want = append(want, `data-state="idle"`, `data-seq="0"`, `data-patches="0"`, `class="app"`,
		`class="card recon"`, `class="card images"`, `class="card train"`, `class="card model"`, "Starting the engine…", "starting…")
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("the prerendered page lacks %s", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", html)
	}
}
