// Package ui is the browser demo: go-app v10 components that load images,
// set the masking, show reconstructions and train an MAE in the page. The
// same routes are registered by the wasm main (package wasm) and by the
// server (`webmae serve`, `webmae static`), which prerenders them.
//
// Browser-only work (decoding images, drawing canvases, storage, WebGPU)
// lives in the *_js.go files; the rest builds and is tested natively.
package ui

import (
	"regexp"
	"strings"
	"sync"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The pages besides the demo, at their canonical URLs: a directory each,
// so that the static website holds them as selftest/index.html and
// bench/index.html, which any static host serves at /selftest/ (and, by
// redirecting, at /selftest). The page also answers without the slash.
const (
	SelfTestPath = "/selftest/" // selftest.go
	BenchPath    = "/bench/"    // bench.go
)

// Pages are the canonical URLs of the pages besides the demo ("/").
var Pages = []string{SelfTestPath, BenchPath}

var routesOnce sync.Once

// Routes registers the pages of the demo (once; later calls do nothing).
func Routes() {
	routesOnce.Do(func() {
		app.Route("/", func() app.Composer { return &Page{} })
		app.RouteWithRegexp(pagePattern(SelfTestPath), func() app.Composer { return &SelfTest{} })
		app.RouteWithRegexp(pagePattern(BenchPath), func() app.Composer { return &Bench{} })
	})
}

// pagesMounted counts the page components mounted in this instance of
// the app (UI goroutine only).
var pagesMounted int

// firstPage reports whether the page mounting now is the first of this
// instance of the app, which then may start its work. go-app follows a
// link inside the app without loading the document, so the work of the
// page left (a training run, a benchmark) would go on beside the next
// one and skew what it measures: a later page instead reloads the
// document at its own URL (after go-app has put that in the address bar)
// and starts in a fresh instance.
func firstPage(ctx app.Context) bool {
	if pagesMounted++; pagesMounted == 1 {
		return true
	}
	ctx.Defer(func(app.Context) { app.Window().Get("location").Call("reload") })
	return false
}

// pagePattern matches a page's path with and without its final slash.
func pagePattern(page string) string {
	return "^" + regexp.QuoteMeta(strings.TrimSuffix(page, "/")) + "/?$"
}

// IsPage reports whether path is one of the site's pages: the demo or a
// page of Pages, with or without its final slash.
func IsPage(path string) bool {
	if path == "/" {
		return true
	}
	for _, p := range Pages {
		if path == p || path+"/" == p {
			return true
		}
	}
	return false
}

// Sample is one bundled photograph (public/web/samples, see SOURCES.md).
type Sample struct {
	Name, File, Title string
}

// URL is where the page fetches the sample.
func (s Sample) URL() string { return "/web/samples/" + s.File }

// Samples are the bundled photographs in gallery order; the first is shown
// at start.
var Samples = []Sample{
	{"chelsea", "chelsea.jpg", "Chelsea the cat"},
	{"astronaut", "astronaut.jpg", "Astronaut Eileen Collins"},
	{"coffee", "coffee.jpg", "Coffee cup"},
	{"rocket", "rocket.jpg", "Falcon 9 launch"},
	{"hubble_deep_field", "hubble_deep_field.jpg", "Hubble eXtreme Deep Field"},
	{"brick", "brick.jpg", "Brick wall"},
	{"grass", "grass.jpg", "Grass"},
	{"gravel", "gravel.jpg", "Gravel"},
	{"camera", "camera.jpg", "Photographer with a camera"},
	{"retina", "retina.jpg", "Retina fundus photograph"},
	{"clock", "clock.jpg", "Wall clock, motion-blurred"},
}
