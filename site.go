package main

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/ui"
)

// contentSecurityPolicy is what the demo runs under: scripts, styles,
// images, fetches and workers from the site itself; WebAssembly
// compilation ('wasm-unsafe-eval'); 'unsafe-eval' because the WebGPU
// binding (github.com/oliverbestmann/webgpu, wgpu/queue_js.go) defines a
// JavaScript helper with eval at start; inline style attributes, which
// go-app renders; data: and blob: images and fetches for decoded photos,
// canvas exports and model downloads; fetches from any HTTPS host and from
// loopback, for models by Hugging Face id or URL (the hub answers large
// files with a redirect to its file CDN; ?hub= may name a local server).
// No plugins, frames or foreign forms.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; connect-src 'self' data: blob: https: http://127.0.0.1:* http://localhost:*; worker-src 'self'; font-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response of the site carries.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// siteHandler is the whole site: the static files under /web/ and
// /models/ (fileServer) and the go-app pages and generated resources
// (app). Only GET and HEAD are answered (405 with Allow otherwise), every
// response carries securityHeaders, and go-app's own conditional answer
// (a 304 for any path whose If-None-Match is the version) is replaced by
// one that only known pages and resources give.
type siteHandler struct {
	files   *fileServer
	app     http.Handler
	version string
}

// appPaths are the paths go-app answers besides its routes.
var appPaths = map[string]bool{"/app.js": true, "/goapp.js": true, "/app-worker.js": true, "/manifest.webmanifest": true,
	"/manifest.json": true, "/wasm_exec.js": true, "/app.css": true, "/app.wasm": true, "/goapp.wasm": true}

func (s *siteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/web/") || strings.HasPrefix(p, "/models/") {
		s.files.ServeHTTP(w, r)
		return
	}
	etag := `"` + s.version + `"`
	known := appPaths[p] || ui.IsPage(p)
	if known && r.Header.Get("If-None-Match") == etag {
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del("If-None-Match")
	s.app.ServeHTTP(&etagOnSuccess{ResponseWriter: w}, r2)
}

// etagOnSuccess drops the ETag go-app sets on every response from those
// that are not a 200 (a 404 must not be cached as the version).
type etagOnSuccess struct{ http.ResponseWriter }

func (e *etagOnSuccess) WriteHeader(code int) {
	if code != http.StatusOK {
		e.Header().Del("ETag")
	}
	e.ResponseWriter.WriteHeader(code)
}

// fileServer serves regular files of the site directory through an
// os.Root, so that no path or symlink leads out of it. Dotfiles and
// directories are not served (404), nor are the precompressed copies
// directly. A file with a fresh NAME.br or NAME.gz beside it (not older
// than the file) is sent compressed to clients that accept it, with
// Content-Encoding and Vary: Accept-Encoding. Each file's ETag is a hash
// of its content, so a 304 answers only an unchanged existing file.
type fileServer struct {
	root *os.Root

	mu    sync.Mutex
	etags map[string]etagEntry
}

type etagEntry struct {
	size  int64
	mtime time.Time
	etag  string
}

func newFileServer(dir string) (*fileServer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site directory: %w", err)
	}
	return &fileServer{root: root, etags: map[string]etagEntry{}}, nil
}

// encodings are the precompressed variants, in order of preference.
var encodings = []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if !servable(name) {
		http.NotFound(w, r)
		return
	}
	file, fi, ok := f.open(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	defer file.Close()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	send, sendInfo, sendName := file, fi, name
	for _, enc := range encodings {
		if !accepts(r.Header.Get("Accept-Encoding"), enc.name) {
			continue
		}
		cf, cfi, ok := f.open(name + enc.suffix)
		if !ok {
			continue
		}
		if cfi.ModTime().Before(fi.ModTime()) { // stale: written before the file
			cf.Close()
			continue
		}
		defer cf.Close()
		h.Set("Content-Encoding", enc.name)
		send, sendInfo, sendName = cf, cfi, name+enc.suffix
		break
	}
	etag, err := f.etag(sendName, send, sendInfo)
	if err != nil {
		http.Error(w, "read error", http.StatusInternalServerError)
		return
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", sendInfo.ModTime(), send)
}

// servable refuses the paths the site does not publish: dotfiles (and
// anything under a dot directory) and the precompressed copies.
func servable(name string) bool {
	if name == "" || name == "." {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	for _, enc := range encodings {
		if strings.HasSuffix(name, enc.suffix) {
			return false
		}
	}
	return true
}

// open opens a regular file inside the root (symlinks are followed only
// while they stay inside it).
func (f *fileServer) open(name string) (*os.File, fs.FileInfo, bool) {
	file, err := f.root.Open(name)
	if err != nil {
		return nil, nil, false
	}
	fi, err := file.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		file.Close()
		return nil, nil, false
	}
	return file, fi, true
}

// etag returns the quoted content hash of a file, cached by its size and
// modification time.
func (f *fileServer) etag(name string, file *os.File, fi fs.FileInfo) (string, error) {
	f.mu.Lock()
	e, ok := f.etags[name]
	f.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.etag, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, file); err != nil {
		return "", err
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	f.mu.Lock()
	f.etags[name] = etagEntry{size: fi.Size(), mtime: fi.ModTime(), etag: etag}
	f.mu.Unlock()
	return etag, nil
}

// accepts reports whether an Accept-Encoding header admits enc (with a
// q-value other than 0).
func accepts(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), enc) {
			continue
		}
		for _, p := range fields[1:] {
			if q, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if v := strings.TrimRight(strings.TrimSpace(q), "0."); v == "" {
					return false
				}
			}
		}
		return true
	}
	return false
}

// listenHint explains a failed listen; a port in use says how to pick
// another.
func listenHint(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: the address is already in use (another webmae serve?); pick another port with --addr 127.0.0.1:PORT (make run ADDR=127.0.0.1:PORT), or port 0 for a free one", addr)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

// serviceWorkerJS is the template of the site's service worker
// (/app-worker.js): go-app's, less push notifications, plus offline
// answers for a page opened with a query or without its final slash, and
// the files a page asks it to keep (serviceWorker fills in their list).
//
//go:embed site_worker.js
var serviceWorkerJS string

// cachedOnRequest are the directories of files that only /selftest (the
// PyTorch reference vectors, 7.1 MB) and /bench (TensorFlow.js, 3.1 MB)
// read. The service worker does not download them at install, for every
// visitor of the demo: a page that has read them asks it to keep them
// (internal/offline), so that page works offline after one visit.
var cachedOnRequest = []string{"web/reference", "web/vendor"}

// onRequestField is the field of serviceWorkerJS that serviceWorker
// fills with the files it caches on request (go-app fills in the rest).
const onRequestField = "{{.ResourcesOnRequest}}"

// serviceWorker is the template of the site's service worker with the
// list of the files it caches on a page's request (site URLs).
func serviceWorker(onRequest []string) string {
	list, _ := json.Marshal(append([]string{}, onRequest...)) // a list of strings always encodes
	return strings.ReplaceAll(serviceWorkerJS, onRequestField, string(list))
}

// tfjsFiles are TensorFlow.js's scripts in the site, copied by
// scripts/build-web.sh when e2e's npm packages are installed; /bench
// compares with TensorFlow.js only when both are there.
var tfjsFiles = []string{"web/vendor/tf.min.js", "web/vendor/tf-backend-webgpu.min.js"}

// tfjsInSite is ui.EnvTfjs's value for the site in dir: "1" when every
// file of tfjsFiles is there, else "".
func tfjsInSite(dir string) string {
	for _, f := range tfjsFiles {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return ""
		}
	}
	return "1"
}

// writeStaticSite writes the static website into dir: go-app's pages and
// resources (index.html, app.js, app-worker.js, the manifest) and each
// page of ui.Pages as a directory with an index.html (selftest/index.html),
// which a static host without an .html fallback serves too. Copies left
// as selftest.html by an earlier layout are removed.
func writeStaticSite(dir string, h *app.Handler) error {
	if err := app.GenerateStaticWebsite(dir, h); err != nil {
		return fmt.Errorf("generate static website in %s: %w", dir, err)
	}
	for _, p := range ui.Pages {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("render %s: HTTP %d", p, rec.Code)
		}
		name := filepath.Join(dir, filepath.FromSlash(strings.Trim(p, "/")))
		if err := os.MkdirAll(name, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.WriteFile(filepath.Join(name, "index.html"), rec.Body.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if err := os.Remove(name + ".html"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the old %s.html: %w", name, err)
		}
	}
	return nil
}
