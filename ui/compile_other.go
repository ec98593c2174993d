//go:build !(js && wasm)

package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/model"
)

// Outside the browser there are no pipelines to compile (see compile_js.go).
func compileFirst(app.Context, *session) {}

func compileTraining(*session, model.Config, int, func(done, total int)) {}
