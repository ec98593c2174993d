// Command wasm is the browser side of webmae: built with
// GOOS=js GOARCH=wasm into public/web/app.wasm, it registers the same
// routes as the server (package ui) and starts the go-app UI.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
