// Whether a service worker controlled this page when it started loading.
// On a first visit none does: the worker installed meanwhile takes control
// at once, which go-app reports as an update; the page (ui/status.go) offers
// "a new version" only when a worker controlled it from the start.
window.webmaeControlledAtLoad = Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
