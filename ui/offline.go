package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/internal/offline"
)

// keepOffline asks the service worker, in a goroutine of its own, to keep
// the site files at paths (what names them on the console), which the
// page has just read: the worker caches them only on request, so the
// page works offline after its first visit. The outcome goes to the
// console; the page's work does not wait for it.
func keepOffline(what string, paths []string) {
	go func() {
		n, err := offline.Keep(paths)
		if err != nil {
			app.Log(fmt.Sprintf("webmae: %s are not kept for offline use: %v", what, err))
			return
		}
		app.Log(fmt.Sprintf("webmae: %s are kept for offline use (%d of %d files fetched)", what, n, len(paths)))
	}()
}
