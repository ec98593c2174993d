//go:build !(js && wasm)

package offline

// Keep has no service worker to ask outside the browser.
func Keep([]string) (int, error) { return 0, ErrNoServiceWorker }

// Loaded has no page whose files to list outside the browser.
func Loaded(string) []string { return nil }
