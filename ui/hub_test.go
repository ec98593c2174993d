package ui

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webmae/engine/cpu"
	"webmae/engine/gpu"
	"webmae/engine/model"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHubInput(t *testing.T) {
	const hub = "http://127.0.0.1:9/"
	for _, c := range []struct{ in, str, cfg, weights string }{
		{"facebook/vit-mae-base", "facebook/vit-mae-base", "http://127.0.0.1:9/facebook/vit-mae-base/resolve/main/config.json",
			"http://127.0.0.1:9/facebook/vit-mae-base/resolve/main/model.safetensors"},
		{" org/m.v2@v1.0 ", "org/m.v2@v1.0", "http://127.0.0.1:9/org/m.v2/resolve/v1.0/config.json", "http://127.0.0.1:9/org/m.v2/resolve/v1.0/model.safetensors"},
		{"org/m@refs/pr/3", "org/m@refs/pr/3", "http://127.0.0.1:9/org/m/resolve/refs/pr/3/config.json", "http://127.0.0.1:9/org/m/resolve/refs/pr/3/model.safetensors"},
		{"https://host/a/b/mae.pth?download=1", "https://host/a/b/mae.pth?download=1", "https://host/a/b/config.json", "https://host/a/b/mae.pth?download=1"},
	} {
		s, err := parseHubInput(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if s.String() != c.str || s.fileURL(hub, "config.json") != c.cfg || s.weightURLs(hub)[0] != c.weights {
			t.Errorf("%q: %q, %q, %q", c.in, s.String(), s.fileURL(hub, "config.json"), s.weightURLs(hub)[0])
		}
	}
	if s, _ := parseHubInput("o/n"); len(s.weightURLs(hub)) != 2 || !strings.HasSuffix(s.weightURLs(hub)[1], "/resolve/main/pytorch_model.bin") {
		t.Errorf("weights to try: %v", s.weightURLs(hub))
	}
	for _, bad := range []string{"", "vit-mae-base", "a/b/c", "../x/y", "o/n@", "o/n@../x", "o/n@a b", "http://host/x.txt", "ftp://host/x.pth"} {
		if _, err := parseHubInput(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHubBase(t *testing.T) {
	for page, want := range map[string]string{
		"http://x/":                             DefaultHub,
		"http://x/?hub=http://127.0.0.1:5000/":  "http://127.0.0.1:5000",
		"http://x/?backend=cpu&hub=https://h/m": "https://h/m",
	} {
		u, _ := url.Parse(page)
		if got, err := hubBase(u); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", page, got, err, want)
		}
	}
	u, _ := url.Parse("http://x/?hub=javascript:alert(1)")
	if _, err := hubBase(u); err == nil {
		t.Error("a javascript: hub accepted")
	}
}

// TestMemoryCheck: the published base fits a 1 GiB-buffer adapter
// (SwiftShader's limit) but not one with WebGPU's default 256 MiB buffers;
// large does not fit the page's memory while loading (file + parameters
// widened to float32 twice: 3143 MiB), nor does huge.
func TestMemoryCheck(t *testing.T) {
	pub := model.PublishedConfigs()
	swiftshader := &gpu.Limits{MaxBufferSize: 1 << 30, MaxStorageBufferBindingSize: 1 << 30}
	if err := memoryCheck(pub[0].Config, 224<<20, swiftshader); err != nil {
		t.Errorf("base: %v", err)
	}
	if err := memoryCheck(pub[0].Config, 224<<20, &gpu.Limits{MaxBufferSize: 256 << 20}); err == nil ||
		!strings.Contains(err.Error(), "one GPU buffer of 427 MiB, over this adapter's limit of 256 MiB") {
		t.Errorf("base on a default-limits adapter: %v", err)
	}
	if err := memoryCheck(pub[1].Config, 629<<20, swiftshader); err == nil || !strings.Contains(err.Error(), "about 3143 MiB of page memory") {
		t.Errorf("large: %v", err)
	}
	if err := memoryCheck(pub[2].Config, 1253<<20, &gpu.Limits{MaxBufferSize: 8 << 30}); err == nil || !strings.Contains(err.Error(), "page memory") {
		t.Errorf("huge: %v", err)
	}
	if err := memoryCheck(pub[1].Config, 629<<20, nil); err == nil || !strings.Contains(err.Error(), "CPU backend") {
		t.Errorf("large on the CPU backend: %v", err)
	}
}

// mapStore is a fileStore in memory.
type mapStore map[string][]byte

func (m mapStore) read(name string) ([]byte, bool, error) { b, ok := m[name]; return b, ok, nil }
func (m mapStore) write(name string, data []byte) error {
	m[name] = append([]byte(nil), data...)
	return nil
}
func (m mapStore) remove(name string) error { delete(m, name); return nil }

func TestModelStore(t *testing.T) {
	files := mapStore{}
	st := &modelStore{fs: files}
	a, err := st.Put("org/a", originID, []byte("aaaa"), []byte(`{"x":1}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Put("b.pth", originFile, []byte("bb"), []byte(`{}`), []byte(`{"p":1}`))
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := st.Index()
	if len(ix.Models) != 2 || ix.Last != b.Key || ix.TotalSize() != 6 || a.Key == b.Key {
		t.Fatalf("index %+v", ix)
	}
	// the same name again replaces it and becomes the last one in use
	a2, _ := st.Put("org/a", originID, []byte("a2"), []byte(`{}`), nil)
	ix, _ = st.Index()
	if a2.Key != a.Key || len(ix.Models) != 2 || ix.Last != a.Key || ix.TotalSize() != 4 {
		t.Fatalf("replaced: %+v", ix)
	}
	if w, err := st.Weights(a2); err != nil || string(w) != "a2" {
		t.Fatalf("weights %q, %v", w, err)
	}
	if err := st.Delete(a.Key); err != nil {
		t.Fatal(err)
	}
	ix, _ = st.Index()
	if len(ix.Models) != 1 || ix.Last != "" || ix.Models[0].Name != "b.pth" || string(ix.Models[0].Preprocessor) != `{"p":1}` {
		t.Fatalf("after delete: %+v", ix)
	}
	if _, ok := files[modelWeightsFile+a.Key]; ok {
		t.Error("deleted weights still stored")
	}
	if err := st.Delete("nope"); err == nil {
		t.Error("deleting a missing model: no error")
	}
	files[modelIndexFile] = []byte("{")
	if _, err := st.Index(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged index: %v", err)
	}
}

// TestModelFromPyTorchFiles: a pytorch_model.bin with its config, and a
// .pth without one whose config cannot be inferred falling back to the
// current configuration.
func TestModelFromPyTorchFiles(t *testing.T) {
	k := cpu.New()
	defer k.Release()
	bin := namedBytes{"pytorch_model.bin", readTestdata(t, "pth/hf/pytorch_model.bin")}
	cfg := namedBytes{"config.json", readTestdata(t, "pth/hf/config.json")}
	lm, err := modelFromFiles(k, []namedBytes{bin, cfg}, model.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if lm.Origin != originFile || lm.Config.ImageSize != 32 {
		t.Errorf("origin %q, image size %d", lm.Origin, lm.Config.ImageSize)
	}
	if _, err := modelFromFiles(k, []namedBytes{{"m.pth", readTestdata(t, "pth/mae_tiny.official.pth")}}, lm.Config); err != nil {
		t.Errorf("a .pth with the current configuration: %v", err)
	}
}
