package ui

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"webmae/engine/gpu"
	"webmae/engine/mae"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// DefaultHub is where model ids are fetched from unless the page has a
// ?hub=<base URL> parameter (tests use a local server with the same
// /<org>/<name>/resolve/<revision>/<file> layout).
const DefaultHub = "https://huggingface.co"

// hubSource is what the hub field asked for: a repository at a revision,
// or one weights file by URL.
type hubSource struct {
	Repo, Revision string // org/name and branch, tag or commit
	URL            string // a weights file (.safetensors, .pth, .pt, .bin); Repo is empty
}

var (
	repoPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)
	revisionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`) // a branch, tag, commit or refs/pr/N
)

// parseHubInput reads `org/name`, `org/name@revision` or a full http(s)
// URL of a weights file.
func parseHubInput(s string) (hubSource, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return hubSource{}, fmt.Errorf("%q is not a valid URL", s)
		}
		if !hasWeightsExt(u.Path) {
			return hubSource{}, fmt.Errorf("the URL %s does not name a .safetensors, .pth, .pt or .bin file", s)
		}
		return hubSource{URL: u.String()}, nil
	}
	repo, rev, hasRev := strings.Cut(s, "@")
	if !repoPattern.MatchString(repo) || strings.Contains(repo, "..") {
		return hubSource{}, fmt.Errorf("%q is not a model id: use org/name, org/name@revision or a URL to a weights file", s)
	}
	if !hasRev {
		rev = "main"
	}
	if !revisionPattern.MatchString(rev) || strings.Contains(rev, "..") {
		return hubSource{}, fmt.Errorf("%q: bad revision %q", s, rev)
	}
	return hubSource{Repo: repo, Revision: rev}, nil
}

// hasWeightsExt reports whether a path names a weights file.
func hasWeightsExt(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".safetensors", ".pth", ".pt", ".bin":
		return true
	}
	return false
}

// String names the source for the page (and the store).
func (s hubSource) String() string {
	if s.URL != "" {
		return s.URL
	}
	if s.Revision == "main" {
		return s.Repo
	}
	return s.Repo + "@" + s.Revision
}

// fileURL is the URL of a file of the repository (or, for a URL source, of
// a file in the same directory as the weights).
func (s hubSource) fileURL(hub, file string) string {
	if s.URL != "" {
		u, _ := url.Parse(s.URL)
		u.Path = path.Join(path.Dir(u.Path), file)
		u.RawQuery, u.Fragment = "", ""
		return u.String()
	}
	return strings.TrimRight(hub, "/") + "/" + s.Repo + "/resolve/" + s.Revision + "/" + file
}

// weightURLs are the weights files to try in order: model.safetensors,
// then pytorch_model.bin (or the one URL).
func (s hubSource) weightURLs(hub string) []string {
	if s.URL != "" {
		return []string{s.URL}
	}
	return []string{s.fileURL(hub, model.ModelFileName), s.fileURL(hub, model.PyTorchModelFileName)}
}

// hubBase returns the hub base URL from a page URL's ?hub= parameter.
func hubBase(page *url.URL) (string, error) {
	h := page.Query().Get("hub")
	if h == "" {
		return DefaultHub, nil
	}
	u, err := url.Parse(h)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("the page parameter hub=%q is not an http(s) URL", h)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// wasmHeapBudget is what a model may use of the wasm module's memory:
// wasm32 addresses 4 GiB, and the Go runtime, the page and the
// garbage collector's headroom need the rest.
const wasmHeapBudget = 3 << 30

// memoryCheck says whether a model of config c, loaded from a weights file
// of fileBytes bytes, fits: in the page's memory, the file, the tensors
// widened to float32 and the flat parameters exist together while
// loading; on the device, the model and one reconstruction's activations
// (mae.ExactMemory). gpuLimits is nil on the CPU backend, whose device
// memory is the page's.
func memoryCheck(c model.Config, fileBytes int64, gpuLimits *gpu.Limits) error {
	est := mae.ExactMemory(c, 1, c.NumKeep(c.MaskRatio))
	host := fileBytes + 2*est.Params
	if gpuLimits == nil {
		host += est.Total()
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	if host > wasmHeapBudget {
		return fmt.Errorf("the model needs about %s of page memory to load (file %s, parameters %s in float32%s), over the %s a page can use",
			mib(host), mib(fileBytes), mib(est.Params), map[bool]string{true: ", plus the CPU backend's buffers", false: ""}[gpuLimits == nil], mib(wasmHeapBudget))
	}
	if gpuLimits != nil && uint64(est.LargestBuffer) > gpuLimits.MaxBufferSize {
		return fmt.Errorf("the model's parameters need one GPU buffer of %s, over this adapter's limit of %s (maxBufferSize)",
			mib(est.LargestBuffer), mib(int64(gpuLimits.MaxBufferSize)))
	}
	return nil
}

// errCancelled is the error of a download the person cancelled.
var errCancelled = errors.New("cancelled")

// modelFromBytes loads a model from a weights file and optional config and
// preprocessor JSON (nil: the config inferred from the shapes, the default
// normalisation).
func modelFromBytes(weights, cfgJSON, preJSON []byte) (model.Config, []float32, model.WeightFormat, recon.Norm, error) {
	cfg, params, format, err := model.LoadModelBytes(weights, cfgJSON)
	if err != nil {
		return model.Config{}, nil, 0, recon.Norm{}, err
	}
	norm, err := recon.DefaultNorm(cfg.NumChannels)
	if len(preJSON) > 0 {
		norm, err = recon.ParsePreprocessor(preJSON, cfg.NumChannels)
	}
	if err != nil {
		return model.Config{}, nil, 0, recon.Norm{}, err
	}
	return cfg, params, format, norm, nil
}
