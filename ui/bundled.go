package ui

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/model"
	"webmae/engine/recon"
)

// The models shipped with the site live in public/models (the default, see
// its README) and its subdirectories (public/models/tiny-64, the small
// one), served at /models/. The server tells the page which of their files
// exist through the environment variable EnvModelFiles (a comma-separated
// list of paths relative to /models/), so that the page never asks for a
// missing one.
const (
	EnvModelFiles = "WEBMAE_MODEL_FILES"
	ModelsURL     = "/models/"
)

// bundledModel is one model shipped with the site.
type bundledModel struct {
	Dir    string // below ModelsURL, "" or ending in "/"
	Label  string // for the model choice
	Source string // for the status line
}

// BundledModels are the shipped models, the default first; the server
// lists their files (BundledModelFiles).
var BundledModels = []bundledModel{
	{Dir: "", Label: "default (224 px, patch 16)", Source: "the bundled default model"},
	{Dir: "tiny-64/", Label: "small (64 px, patch 8, fast)", Source: "the bundled 64-px model"},
}

// BundledModelFiles are the files of one bundled model, in loading order
// (the preprocessor config is optional).
var BundledModelFiles = []string{model.ConfigFileName, recon.PreprocessorFileName, model.ModelFileName}

// availableBundled returns the bundled models whose weights and config the
// server has.
func availableBundled() []bundledModel {
	have := bundledFiles()
	var out []bundledModel
	for _, b := range BundledModels {
		if have[b.Dir+model.ModelFileName] && have[b.Dir+model.ConfigFileName] {
			out = append(out, b)
		}
	}
	return out
}

func bundledFiles() map[string]bool {
	have := map[string]bool{}
	for _, name := range strings.Split(app.Getenv(EnvModelFiles), ",") {
		have[name] = true
	}
	return have
}

// loadBundled fetches a bundled model and builds it on the session's
// backend.
func loadBundled(ctx app.Context, s *session, b bundledModel) (*loadedModel, error) {
	have := bundledFiles()
	var files []namedBytes
	for _, name := range BundledModelFiles {
		if !have[b.Dir+name] {
			continue
		}
		var progress func(done, total int)
		if name == model.ModelFileName {
			progress = func(done, total int) {
				if total > 0 {
					setLoading(ctx, "Loading "+b.Source, float64(done)/float64(total))
				}
			}
		}
		url := ModelsURL + b.Dir + name
		data, found, err := fetchBytes(url, progress)
		if err == nil && !found {
			err = fmt.Errorf("%s is missing", url)
		}
		if err != nil {
			return nil, err
		}
		files = append(files, namedBytes{Name: name, Data: data})
	}
	var lm *loadedModel
	err := s.do(func(k backend.Kernels) (err error) { lm, err = modelFromFiles(k, files, model.Config{}); return err })
	if err != nil {
		return nil, err
	}
	lm.Source, lm.Origin = b.Source, originBundled
	rebuild := lm.rebuild
	lm.rebuild = func(k backend.Kernels) (*loadedModel, error) {
		m, err := rebuild(k)
		if m != nil {
			m.Source = b.Source
		}
		return m, err
	}
	return lm, nil
}
