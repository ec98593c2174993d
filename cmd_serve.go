package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
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

func runServe(args []string) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fl.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	dir := fl.String("dir", "public", "the site's directory: web/app.wasm, web/ assets, models/")
	if err := fl.Parse(args); err != nil {
		return err
	}
	h, err := webHandler(*dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// The first line on stdout is the URL (e2e/run.sh reads it).
	fmt.Printf("serving http://%s (site %s, version %s)\n", ln.Addr(), *dir, h.Version)
	srv := &http.Server{Handler: siteMux(*dir, h), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// siteMux serves the app and, as plain files, the bundled models: on a
// static host they sit next to web/, and a missing one must be a 404, not
// the app page.
func siteMux(dir string, h *app.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/models/", http.FileServer(http.Dir(dir)))
	mux.Handle("/", h)
	return mux
}

func runStatic(args []string) error {
	fl := flag.NewFlagSet("static", flag.ContinueOnError)
	dir := fl.String("dir", "public", "the site's directory: web/app.wasm must be built into it first")
	if err := fl.Parse(args); err != nil {
		return err
	}
	h, err := webHandler(*dir)
	if err != nil {
		return err
	}
	if err := app.GenerateStaticWebsite(*dir, h); err != nil {
		return fmt.Errorf("generate static website in %s: %w", *dir, err)
	}
	fmt.Printf("static website written to %s (version %s)\n", *dir, h.Version)
	return nil
}

// webHandler is the go-app handler of the demo for the site in dir. Its
// version, and so the service worker's cache name, is a hash of app.wasm:
// a new build replaces the offline copy, an unchanged one keeps it.
func webHandler(dir string) (*app.Handler, error) {
	wasm, err := os.ReadFile(filepath.Join(dir, "web", "app.wasm"))
	if err != nil {
		return nil, fmt.Errorf("read the browser build (run scripts/build-web.sh first): %w", err)
	}
	sum := sha256.Sum256(wasm)
	// What the demo page needs offline: the assets directly in web/, the
	// samples and the bundled model (not the self-test references).
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
		CacheableResources: cacheable,
		Version:            hex.EncodeToString(sum[:8]),
		WasmContentLength:  strconv.Itoa(len(wasm)),
		Resources:          siteDir{http.FileServer(http.Dir(dir))},
		Env:                map[string]string{ui.EnvModelFiles: strings.Join(models, ",")},
	}, nil
}

// siteDir serves /web/... from the site directory while resolving
// resource URLs to the site root (/web/app.wasm), so that the same pages
// work from `webmae serve` and from any static host of that directory.
type siteDir struct{ http.Handler }

func (siteDir) Resolve(location string) string { return app.LocalDir("").Resolve(location) }

// siteFiles lists the files in the given subdirectories of dir (and their
// subdirectories when recursive) as site URLs (/web/samples/x.jpg),
// skipping hidden files, precompressed copies (*.br) and the model card
// (models/README.md); a missing subdirectory contributes nothing. The
// service worker caches them all, so every one must exist.
func siteFiles(dir string, recursive bool, subdirs ...string) ([]string, error) {
	var out []string
	for _, sub := range subdirs {
		root := filepath.Join(dir, filepath.FromSlash(sub))
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if p != root && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), ".br") {
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			if filepath.ToSlash(rel) == "models/README.md" {
				return nil
			}
			out = append(out, path.Join("/", filepath.ToSlash(rel)))
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", root, err)
		}
	}
	return out, nil
}
