//go:build unix

package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var loadDuration = flag.Duration("load-duration", 3*time.Second, "duration of TestServerLoad (10s for the full check)")

// testSite writes a small site: app.wasm with fresh .br and .gz copies, a
// stylesheet, the model, a dotfile, a symlink inside the site and one out
// of it.
func testSite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.txt")
	writeFile(t, outside, "outside the site")
	for p, c := range map[string]string{
		"web/app.wasm":             strings.Repeat("wasm ", 1000),
		"web/webmae.css":           "body{}",
		"web/.secret":              "dot",
		"web/sub/.git/config":      "dot dir",
		"models/config.json":       `{"a":1}`,
		"models/model.safetensors": "weights",
	} {
		writeFile(t, filepath.Join(dir, p), c)
	}
	time.Sleep(10 * time.Millisecond) // the copies are newer than app.wasm
	writeFile(t, filepath.Join(dir, "web/app.wasm.br"), "BROTLI")
	writeFile(t, filepath.Join(dir, "web/app.wasm.gz"), "GZIP")
	os.Symlink(outside, filepath.Join(dir, "web/escape.txt"))
	os.Symlink("../../..", filepath.Join(dir, "web/up"))
	os.Symlink("webmae.css", filepath.Join(dir, "web/alias.css"))
	return dir
}

type resp struct {
	code int
	h    http.Header
	body string
}

func do(t *testing.T, url, method string, header map[string]string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(b)}
}

// Every response carries nosniff, the CSP and Referrer-Policy; methods
// other than GET and HEAD get a 405 with Allow; dotfiles, directories,
// precompressed copies and symlinks out of the site are 404s.
func TestSiteRefuses(t *testing.T) {
	dir := testSite(t)
	site, err := newSite(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"} {
		for _, p := range []string{"/", "/web/webmae.css", "/models/config.json", "/app.js"} {
			r := do(t, srv.URL+p, m, nil)
			if r.code != 405 || r.h.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d, Allow %q", m, p, r.code, r.h.Get("Allow"))
			}
		}
	}
	for _, p := range []string{"/web/.secret", "/web/sub/.git/config", "/web/", "/web/sub/", "/models/", "/web/app.wasm.br",
		"/web/app.wasm.gz", "/web/escape.txt", "/web/up/etc/passwd", "/web/../../../../etc/passwd", "/web/%2e%2e/%2e%2e/etc/passwd",
		"/models/missing.json", "/nonexistent"} {
		r := do(t, srv.URL+p, "GET", nil)
		if r.code != 404 || strings.Contains(r.body, "outside the site") || strings.Contains(r.body, "root:") {
			t.Errorf("GET %s: %d %q", p, r.code, r.body)
		}
	}
	for _, p := range []string{"/", "/app.js", "/app-worker.js", "/web/webmae.css", "/web/alias.css", "/models/config.json", "/missing", "/web/.secret"} {
		for _, m := range []string{"GET", "HEAD", "POST"} {
			r := do(t, srv.URL+p, m, nil)
			h := r.h
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "'wasm-unsafe-eval'") ||
				h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s %s (%d): headers %v", m, p, r.code, h)
			}
			if m == "HEAD" && r.body != "" {
				t.Errorf("HEAD %s has a body", p)
			}
		}
	}
	if r := do(t, srv.URL+"/web/alias.css", "GET", nil); r.code != 200 || r.body != "body{}" || r.h.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("symlink inside the site: %d %q %q", r.code, r.body, r.h.Get("Content-Type"))
	}
	if r := do(t, srv.URL+"/models/model.safetensors", "GET", nil); r.h.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("unknown extension served as %q", r.h.Get("Content-Type"))
	}
}

// Precompressed copies go to clients that accept them (brotli first),
// with Content-Encoding and Vary; a stale copy (older than its file) is
// not used; each file's ETag is its content hash and a 304 answers only
// an existing file whose ETag matches.
func TestSiteEncodingAndETags(t *testing.T) {
	dir := testSite(t)
	site, err := newSite(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	wasm := srv.URL + "/web/app.wasm"
	for accept, want := range map[string]string{"br, gzip": "br", "gzip, deflate, br": "br", "gzip": "gzip", "br;q=0, gzip": "gzip", "": "", "identity": "", "gzip;q=0": ""} {
		r := do(t, wasm, "GET", map[string]string{"Accept-Encoding": accept})
		body := map[string]string{"br": "BROTLI", "gzip": "GZIP", "": strings.Repeat("wasm ", 1000)}[want]
		if r.code != 200 || r.h.Get("Content-Encoding") != want || r.body != body || r.h.Get("Vary") != "Accept-Encoding" ||
			r.h.Get("Content-Type") != "application/wasm" {
			t.Errorf("Accept-Encoding %q: %d, encoding %q, vary %q, type %q, %d bytes", accept, r.code, r.h.Get("Content-Encoding"),
				r.h.Get("Vary"), r.h.Get("Content-Type"), len(r.body))
		}
	}
	raw := do(t, wasm, "GET", nil).h.Get("ETag")
	br := do(t, wasm, "GET", map[string]string{"Accept-Encoding": "br"}).h.Get("ETag")
	if raw == "" || raw == br || raw == `"`+site.version+`"` {
		t.Errorf("ETags raw %s, br %s (version %s)", raw, br, site.version)
	}
	if r := do(t, wasm, "GET", map[string]string{"If-None-Match": raw}); r.code != 304 || r.body != "" {
		t.Errorf("matching If-None-Match: %d", r.code)
	}
	if r := do(t, wasm, "GET", map[string]string{"If-None-Match": br}); r.code != 200 {
		t.Errorf("the brotli ETag for the identity body: %d", r.code)
	}
	// An edited stylesheet gets a new ETag; the old one no longer matches.
	css := srv.URL + "/web/webmae.css"
	old := do(t, css, "GET", nil).h.Get("ETag")
	time.Sleep(10 * time.Millisecond)
	writeFile(t, filepath.Join(dir, "web/webmae.css"), "body{color:red}")
	r := do(t, css, "GET", map[string]string{"If-None-Match": old})
	if r.code != 200 || r.body != "body{color:red}" || r.h.Get("ETag") == old {
		t.Errorf("edited file: %d %q, ETag %s (was %s)", r.code, r.body, r.h.Get("ETag"), old)
	}
	// A stale copy: app.wasm rewritten after its .br and .gz.
	writeFile(t, filepath.Join(dir, "web/app.wasm"), "new wasm")
	if r := do(t, wasm, "GET", map[string]string{"Accept-Encoding": "br, gzip"}); r.body != "new wasm" || r.h.Get("Content-Encoding") != "" {
		t.Errorf("stale precompressed copy served: %q %q", r.h.Get("Content-Encoding"), r.body)
	}
	// The pages' ETag is the version; a path that does not exist gets no
	// 304 (nor an ETag), whatever it sends.
	v := `"` + site.version + `"`
	for p, want := range map[string]int{"/": 304, "/app.js": 304, "/selftest": 304, "/nonexistent": 404, "/web/missing.css": 404, "/models/none": 404} {
		for _, inm := range []string{v, raw, "*"} {
			r := do(t, srv.URL+p, "GET", map[string]string{"If-None-Match": inm})
			w := want
			if inm != v && want == 304 {
				w = 200
			}
			if r.code != w || (r.code == 404 && r.h.Get("ETag") != "") {
				t.Errorf("GET %s If-None-Match %s: %d, want %d (ETag %q)", p, inm, r.code, w, r.h.Get("ETag"))
			}
		}
	}
}

// Clients that send nothing, or stop reading, are disconnected by the
// server's timeouts (shortened here) instead of being held.
func TestServerTimeouts(t *testing.T) {
	dir := testSite(t)
	writeFile(t, filepath.Join(dir, "web/big.bin"), strings.Repeat("x", 32<<20))
	site, err := newSite(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(site)
	for _, d := range []*time.Duration{&srv.ReadHeaderTimeout, &srv.ReadTimeout, &srv.WriteTimeout, &srv.IdleTimeout} {
		if *d <= 0 {
			t.Fatalf("a server timeout is not set: %+v", srv)
		}
		*d = 300 * time.Millisecond
	}
	var opened, closed atomic.Int64
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			closed.Add(1)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 200; i++ { // idle: connect and send nothing
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i := 0; i < 5; i++ { // non-reading: ask for 32 MB and read nothing
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /web/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		conns = append(conns, c)
	}
	start := time.Now()
	for (opened.Load() < 205 || closed.Load() < opened.Load()) && time.Since(start) < 20*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if o, c := opened.Load(), closed.Load(); o < 205 || c < o {
		t.Fatalf("%d connections accepted, %d closed after 20 s", o, c)
	}
	t.Logf("205 stalled connections (200 idle, 5 not reading 32 MB) all closed by the server within %v", time.Since(start).Round(100*time.Millisecond))
}

// A taken port says how to choose another.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runServe([]string{"--addr", ln.Addr().String(), "--dir", testSite(t)})
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "make run ADDR=127.0.0.1:PORT") {
		t.Fatalf("port in use: %v", err)
	}
}

// TestServerLoad: 50 clients on loopback for -load-duration (3 s by
// default, 10 s for the full check) fetch pages, compressed and raw
// assets and revalidations; every answer must be the expected one.
func TestServerLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	dir := testSite(t)
	site, err := newSite(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(site)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	etag := do(t, base+"/web/webmae.css", "GET", nil).h.Get("ETag")
	type req struct {
		path   string
		header map[string]string
		code   int
		body   string
	}
	reqs := []req{
		{"/", nil, 200, ""},
		{"/web/app.wasm", map[string]string{"Accept-Encoding": "br"}, 200, "BROTLI"},
		{"/web/app.wasm", nil, 200, strings.Repeat("wasm ", 1000)},
		{"/web/webmae.css", map[string]string{"If-None-Match": etag}, 304, ""},
		{"/models/config.json", nil, 200, `{"a":1}`},
		{"/app.js", nil, 200, ""},
		{"/web/.secret", nil, 404, ""},
	}
	var ok, bad atomic.Int64
	var firstErr sync.Once
	stop := time.Now().Add(*loadDuration)
	var wg sync.WaitGroup
	for c := 0; c < 50; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for i := c; time.Now().Before(stop); i++ {
				q := reqs[i%len(reqs)]
				r, _ := http.NewRequest("GET", base+q.path, nil)
				for k, v := range q.header {
					r.Header.Set(k, v)
				}
				resp, err := client.Do(r)
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && (resp.StatusCode != q.code || (q.body != "" && !bytes.Equal(b, []byte(q.body)))) {
						err = fmt.Errorf("GET %s: %d (want %d), %d bytes", q.path, resp.StatusCode, q.code, len(b))
					}
				}
				if err != nil {
					bad.Add(1)
					firstErr.Do(func() { t.Errorf("client %d: %v", c, err) })
					continue
				}
				ok.Add(1)
			}
		}(c)
	}
	wg.Wait()
	t.Logf("50 clients, %v: %d requests answered correctly (%.0f requests/s), %d errors", *loadDuration, ok.Load(),
		float64(ok.Load())/loadDuration.Seconds(), bad.Load())
	if bad.Load() > 0 || ok.Load() == 0 {
		t.Fatalf("%d errors", bad.Load())
	}
}
