// Package ui is the browser demo: go-app v10 components that load images,
// set the masking, show reconstructions and train an MAE in the page. The
// same routes are registered by the wasm main (package wasm) and by the
// server (`webmae serve`, `webmae static`), which prerenders them.
//
// Browser-only work (decoding images, drawing canvases, storage, WebGPU)
// lives in the *_js.go files; the rest builds and is tested natively.
package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Routes registers the pages of the demo.
func Routes() {
	app.Route("/", func() app.Composer { return &Page{} })
	app.Route("/selftest", func() app.Composer { return &SelfTest{} }) // selftest.go
	app.Route("/bench", func() app.Composer { return &Bench{} })       // bench.go
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
