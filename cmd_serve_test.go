package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/ui"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The handler caches at install what the demo and the pages need offline
// (and only that), leaves the self-test's and the benchmark's files to be
// cached on request, names the bundled model files, versions itself by
// every file the service worker may cache, and serves /web/ and /models/
// from the site directory.
func TestWebHandler(t *testing.T) {
	dir := t.TempDir()
	if _, err := newSite(dir); err == nil || !strings.Contains(err.Error(), "scripts/build-web.sh") {
		t.Fatalf("missing app.wasm: %v", err)
	}
	for path, content := range map[string]string{
		"web/app.wasm":                     "wasm v1",
		"web/app.wasm.br":                  "compressed",
		"web/app.wasm.gz":                  "compressed",
		"web/icon.svg":                     "<svg/>",
		"web/webmae.css":                   "body{}",
		"web/samples/a.jpg":                "jpeg",
		"web/samples/SOURCES.md":           "# sources",
		"web/reference/ref.json":           "{}",
		"web/reference/ref.json.br":        "compressed",
		"web/vendor/tf.min.js":             "// tfjs",
		"models/config.json":               "{}",
		"models/model.safetensors":         "weights",
		"models/README.md":                 "# card",
		"models/.hidden":                   "x",
		"models/train.csv":                 "step,loss",
		"models/preprocessor_x.txt":        "x",
		"models/tiny-64/config.json":       "{}",
		"models/tiny-64/model.safetensors": "weights",
	} {
		writeFile(t, filepath.Join(dir, path), content)
	}
	site, err := newSite(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := site.app.(*app.Handler)
	want := []string{"/models/config.json", "/models/model.safetensors", "/models/preprocessor_x.txt",
		"/models/tiny-64/config.json", "/models/tiny-64/model.safetensors", "/models/train.csv",
		"/web/app.wasm", "/web/icon.svg", "/web/samples/SOURCES.md", "/web/samples/a.jpg", "/web/webmae.css",
		"/selftest/", "/bench/"}
	if !slices.Equal(h.CacheableResources, want) {
		t.Errorf("cached %v\nwant %v", h.CacheableResources, want)
	}
	onRequest := `const resourcesOnRequest = ["/web/reference/ref.json","/web/vendor/tf.min.js"];`
	if !strings.Contains(h.ServiceWorkerTemplate, onRequest) {
		t.Errorf("the service worker does not hold %s", onRequest)
	}
	if got := h.Env[ui.EnvModelFiles]; got != "config.json,model.safetensors,tiny-64/config.json,tiny-64/model.safetensors" {
		t.Errorf("model files %q", got)
	}
	// The version covers every file the worker may cache: app.wasm, a
	// sample, the model, a reference, TensorFlow.js.
	v := h.Version
	for _, f := range []string{"web/app.wasm", "web/samples/a.jpg", "models/model.safetensors", "web/reference/ref.json", "web/vendor/tf.min.js"} {
		writeFile(t, filepath.Join(dir, f), "changed "+f)
		s2, err := newSite(dir)
		if err != nil {
			t.Fatal(err)
		}
		if s2.version == v || len(s2.version) != 16 {
			t.Errorf("version %q does not follow %s (now %q)", v, f, s2.version)
		}
		v = s2.version
	}
	writeFile(t, filepath.Join(dir, "models/README.md"), "changed")
	if s2, _ := newSite(dir); s2.version != v {
		t.Errorf("the version follows a file the service worker does not cache")
	}

	srv := httptest.NewServer(site)
	defer srv.Close()
	for path, want := range map[string]int{"/web/icon.svg": 200, "/models/config.json": 200, "/models/missing.json": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, s := range []string{"webmae", "/web/webmae.css", `data-testid="canvas-recon"`} {
		if !strings.Contains(string(page), s) {
			t.Errorf("the page does not contain %q", s)
		}
	}
}
