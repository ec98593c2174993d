// Package offline asks the site's service worker (site_worker.js) to keep
// files for offline use: the pages that read files the worker does not
// cache at install (the self-test's references, the benchmark's
// TensorFlow.js) call Keep once they have read them (Loaded lists what a
// page has read), so that the page works offline after one visit.
package offline

import (
	"errors"
	"time"
)

// readyTimeout bounds Keep's wait for an active service worker and its
// answer: on a first visit the worker installs while the page runs (it
// downloads the app's files first).
const readyTimeout = 2 * time.Minute

// ErrNoServiceWorker is Keep's error where the page has no service
// worker: outside the browser, or a browser or context without one (an
// insecure origin, a private window that disables them).
var ErrNoServiceWorker = errors.New("no service worker on this page")
