package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/ui"
)

func init() {
	commands["serve"] = command{summary: "serve the browser demo (default http://127.0.0.1:8080)", run: runServe}
	commands["static"] = command{summary: "write the static website (HTML, JS, service worker) into public/", run: runStatic}
}

// Server timeouts: a client has 10 s to send its headers and 30 s for
// the whole request; a response may take 2 minutes (app.wasm is 2.7 MB
// with brotli, 15 MB without: over 1 Mbit/s at worst), and an idle
// keep-alive connection is closed after a minute. Clients that stall are
// dropped instead of being held forever.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = time.Minute
)

func runServe(args []string) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fl.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	dir := fl.String("dir", "public", "the site's directory: web/app.wasm, web/ assets, models/")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	site, err := newSite(*dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return listenHint(*addr, err)
	}
	// The first line on stdout is the URL (e2e/run.sh reads it).
	fmt.Printf("serving http://%s (site %s, version %s)\n", ln.Addr(), *dir, site.version)
	if err := newServer(site).Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newServer is the HTTP server of the site, with its timeouts.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10}
}

// newSite is the handler of the whole site in dir (see siteHandler).
func newSite(dir string) (*siteHandler, error) {
	files, err := newFileServer(dir)
	if err != nil {
		return nil, err
	}
	h, err := webHandler(dir, files)
	if err != nil {
		return nil, err
	}
	return &siteHandler{files: files, app: h, version: h.Version}, nil
}

func runStatic(args []string) error {
	fl := flag.NewFlagSet("static", flag.ContinueOnError)
	dir := fl.String("dir", "public", "the site's directory: web/app.wasm must be built into it first")
	if err := fl.Parse(args); err != nil {
		return err
	}
	files, err := newFileServer(*dir)
	if err != nil {
		return err
	}
	h, err := webHandler(*dir, files)
	if err != nil {
		return err
	}
	if err := writeStaticSite(*dir, h); err != nil {
		return err
	}
	fmt.Printf("static website written to %s (version %s)\n", *dir, h.Version)
	return nil
}

// webHandler is the go-app handler of the demo for the site in dir, its
// resources served by files. Its version, and so the service worker's
// cache name and the pages' ETag, is a hash of every file the service
// worker caches, at install or on a page's request (app.wasm, styles,
// samples, the bundled model, the self-test's references): any changed
// file replaces the offline copy, an unchanged site keeps it.
func webHandler(dir string, files http.Handler) (*app.Handler, error) {
	fi, err := os.Stat(filepath.Join(dir, "web", "app.wasm"))
	if err != nil {
		return nil, fmt.Errorf("read the browser build (run scripts/build-web.sh first): %w", err)
	}
	// What the demo needs offline, cached at install: the assets directly
	// in web/, the samples and the bundled models.
	cacheable, err := siteFiles(dir, false, "web")
	if err != nil {
		return nil, err
	}
	more, err := siteFiles(dir, true, "web/samples", "models")
	if err != nil {
		return nil, err
	}
	cacheable = append(cacheable, more...)
	slices.Sort(cacheable)
	// The files only /selftest and /bench read, cached when those pages
	// ask (cachedOnRequest, site.go).
	onRequest, err := siteFiles(dir, true, cachedOnRequest...)
	if err != nil {
		return nil, err
	}
	version, err := siteVersion(dir, slices.Concat(cacheable, onRequest))
	if err != nil {
		return nil, err
	}
	var models []string
	for _, b := range ui.BundledModels {
		for _, name := range ui.BundledModelFiles {
			if fi, err := os.Stat(filepath.Join(dir, "models", b.Dir, name)); err == nil && fi.Mode().IsRegular() {
				models = append(models, b.Dir+name)
			}
		}
	}
	ui.Routes()
	return &app.Handler{
		Name:        "webmae",
		ShortName:   "webmae",
		Title:       "webmae: masked autoencoders in your browser",
		Description: "Masked Autoencoders (He et al. 2021) that reconstruct and train in the browser: Go compiled to WebAssembly on WebGPU.",
		Icon: app.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-maskable-512.png",
			SVG:      "/web/icon.svg",
		},
		BackgroundColor:    "#f6f7f9",
		ThemeColor:         "#1f2433",
		LoadingLabel:       "webmae: loading the app {progress}%",
		Styles:             []string{"/web/webmae.css"},
		Scripts:            []string{"/web/sw-state.js"},
		CacheableResources: append(cacheable, ui.Pages...),
		Version:            version,
		WasmContentLength:  strconv.FormatInt(fi.Size(), 10),
		Resources:          siteDir{files},
		// The policy also as meta tags, for static hosts that send no
		// headers of their own (frame-ancestors only works as a header).
		RawHeaders: []string{
			`<meta http-equiv="Content-Security-Policy" content="` + strings.Split(contentSecurityPolicy, "; frame-ancestors")[0] + `">`,
			`<meta name="referrer" content="no-referrer">`,
		},
		Env: map[string]string{ui.EnvModelFiles: strings.Join(models, ","), ui.EnvTfjs: tfjsInSite(dir)},
		// Offline: the demo and the pages, and the files of /selftest and
		// /bench once used (site.go).
		ServiceWorkerTemplate: serviceWorker(onRequest),
	}, nil
}

// siteDir serves /web/... from the site directory while resolving
// resource URLs to the site root (/web/app.wasm), so that the same pages
// work from `webmae serve` and from any static host of that directory.
type siteDir struct{ http.Handler }

func (siteDir) Resolve(location string) string { return app.LocalDir("").Resolve(location) }

// siteVersion hashes the site URLs in files and their contents (the first
// 8 bytes of a SHA-256, hex).
func siteVersion(dir string, files []string) (string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", fmt.Errorf("site directory: %w", err)
	}
	defer root.Close()
	h := sha256.New()
	for _, u := range files {
		f, err := root.Open(strings.TrimPrefix(u, "/"))
		if err != nil {
			return "", fmt.Errorf("site version: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", u)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("site version: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// siteFiles lists the files in the given subdirectories of dir (and their
// subdirectories when recursive) as site URLs (/web/samples/x.jpg),
// skipping hidden files, precompressed copies (*.br, *.gz) and the model card
// (models/README.md); a missing subdirectory contributes nothing. The
// service worker caches them all, so every one must exist.
func siteFiles(dir string, recursive bool, subdirs ...string) ([]string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("site directory: %w", err)
	}
	defer root.Close()
	var out []string
	for _, sub := range subdirs {
		err := fs.WalkDir(root.FS(), sub, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if p != sub && !recursive {
					return fs.SkipDir
				}
				return nil
			}
			if !servable(d.Name()) || p == "models/README.md" {
				return nil
			}
			// Only what the file server serves: regular files, or
			// symlinks to one inside the site.
			if fi, err := root.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
			out = append(out, "/"+p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", filepath.Join(dir, sub), err)
		}
	}
	return out, nil
}
