//go:build !(js && wasm)

package ui

// Outside the browser there is no fetch: see hubfetch_js.go.

type fetchJob struct{}

func newFetchJob() *fetchJob { return &fetchJob{} }

func (d *fetchJob) cancel() {}

func (d *fetchJob) get(string, int64, func(done, total int64)) ([]byte, bool, error) {
	return nil, false, errNoBrowser
}

func pageURL() string { return "" }
