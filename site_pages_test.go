//go:build unix

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webmae/ui"
)

// pagesSite writes the smallest site webHandler accepts (app.wasm), with
// TensorFlow.js's scripts when tfjs is set.
func pagesSite(t *testing.T, tfjs bool) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web/app.wasm"), "wasm")
	writeFile(t, filepath.Join(dir, "web/webmae.css"), "body{}")
	if tfjs {
		for _, f := range tfjsFiles {
			writeFile(t, filepath.Join(dir, f), "// tfjs")
		}
	}
	return dir
}

// get fetches url without following redirects.
func get(t *testing.T, url string, header map[string]string) resp {
	t.Helper()
	return do(t, url, http.MethodGet, header)
}

// pageMarks are what each page's prerendered HTML holds.
var pageMarks = map[string]string{ui.SelfTestPath: `data-testid="selftest-summary"`, ui.BenchPath: `data-testid="bench-summary"`}

// `webmae serve` answers every page with and without its final slash and
// with a query, revalidates them by version, and 404s other paths; the
// service worker caches the pages and keeps the self-test's and the
// benchmark's files on first use.
func TestServePages(t *testing.T) {
	site, err := newSite(pagesSite(t, false))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	for page, mark := range pageMarks {
		bare := strings.TrimSuffix(page, "/")
		for _, p := range []string{page, bare, page + "?preset=micro&only=matmul"} {
			r := get(t, srv.URL+p, nil)
			if r.code != http.StatusOK || !strings.Contains(r.body, mark) {
				t.Errorf("GET %s: %d, page holds %q: %v", p, r.code, mark, strings.Contains(r.body, mark))
			}
		}
		if r := get(t, srv.URL+page, map[string]string{"If-None-Match": `"` + site.version + `"`}); r.code != http.StatusNotModified {
			t.Errorf("GET %s revalidated: %d, want 304", page, r.code)
		}
		for _, p := range []string{page + "x", bare + "//"} {
			if r := get(t, srv.URL+p, nil); r.code != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, r.code)
			}
		}
	}
	worker := get(t, srv.URL+"/app-worker.js", nil)
	for _, s := range []string{`"/selftest/"`, `"/bench/"`, `"/web/app.wasm"`, site.version} {
		if !strings.Contains(worker.body, s) {
			t.Errorf("the service worker does not hold %s", s)
		}
	}
	if strings.Contains(worker.body, "{{") {
		t.Errorf("the service worker template has unfilled fields")
	}
}

// The static website holds each page as a directory, so a strict file
// server (http.FileServer: no .html fallback) answers /selftest/ and
// redirects /selftest there, query included; an old selftest.html is
// removed.
func TestStaticPagesOnStrictServer(t *testing.T) {
	dir := pagesSite(t, false)
	writeFile(t, filepath.Join(dir, "selftest.html"), "old layout")
	files, err := newFileServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := webHandler(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeStaticSite(dir, h); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "selftest.html")); !os.IsNotExist(err) {
		t.Errorf("selftest.html is still there: %v", err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	for page, mark := range pageMarks {
		if r := get(t, srv.URL+page, nil); r.code != http.StatusOK || !strings.Contains(r.body, mark) {
			t.Errorf("static GET %s: %d, holds %q: %v", page, r.code, mark, strings.Contains(r.body, mark))
		}
		bare := strings.TrimSuffix(page, "/")
		r := get(t, srv.URL+bare+"?preset=micro", nil)
		from, _ := url.Parse(srv.URL + bare)
		loc, err := url.Parse(r.h.Get("Location"))
		if err != nil || r.code != http.StatusMovedPermanently || from.ResolveReference(loc).RequestURI() != page+"?preset=micro" {
			t.Errorf("static GET %s?preset=micro: %d to %q, want 301 to %s?preset=micro", bare, r.code, r.h.Get("Location"), page)
		}
	}
	for _, p := range []string{"/", "/app.js", "/app-worker.js", "/manifest.webmanifest"} {
		if r := get(t, srv.URL+p, nil); r.code != http.StatusOK {
			t.Errorf("static GET %s: %d", p, r.code)
		}
	}
	if r := get(t, srv.URL+"/app-worker.js", nil); !strings.Contains(r.body, `"/selftest/"`) || !strings.Contains(r.body, `"/bench/"`) {
		t.Errorf("the static service worker does not cache the pages")
	}
}

// The page learns from the server (go-app's Env, in app.js) whether the
// site holds TensorFlow.js: only when both of its scripts are there.
func TestTfjsInSite(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{{nil, ""}, {tfjsFiles[:1], ""}, {tfjsFiles, "1"}} {
		dir := pagesSite(t, false)
		for _, f := range tc.files {
			writeFile(t, filepath.Join(dir, f), "// tfjs")
		}
		site, err := newSite(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(site)
		r, err := http.Get(srv.URL + "/app.js")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		srv.Close()
		if want := `"` + ui.EnvTfjs + `":"` + tc.want + `"`; !strings.Contains(string(body), want) {
			t.Errorf("with %v, app.js does not hold %s", tc.files, want)
		}
	}
}
