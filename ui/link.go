package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/backend"
	"webmae/engine/explore"
	"webmae/engine/model"
)

// Link settings: the page's URL query carries the image, the mask and the
// model source (engine/explore.State), so that a view can be shared; other
// parameters (backend=cpu) are left as they are.

// linkModelDefault names the bundled default model in a link; a preset
// name stands for that preset freshly initialised with FreshSeed.
const linkModelDefault = "default"

// readLink returns the settings of the page URL: the view settings the
// page writes into the fragment (#ratio=...), or the same names given in
// the query (?model=micro); the fragment wins. ok is false when it has
// none (and outside the browser).
func readLink() (st explore.State, ok bool, err error) {
	if !app.IsClient {
		return explore.State{}, false, nil
	}
	loc := app.Window().Get("location")
	parts := []string{strings.TrimPrefix(loc.Get("hash").String(), "#"), strings.TrimPrefix(loc.Get("search").String(), "?")}
	return explore.ParseState(strings.Join(parts, "&"))
}

// linkedModel is the model a link asks for: a fresh preset, or nil to
// load the bundled default.
func linkedModel(k backend.Kernels, st explore.State) (*loadedModel, error) {
	if st.Model == "" || st.Model == linkModelDefault {
		return nil, nil
	}
	if !slices.Contains(model.PresetNames, st.Model) {
		return nil, fmt.Errorf("the link's model %q is not %s or a preset (%s); using the default model", st.Model, linkModelDefault, strings.Join(model.PresetNames, ", "))
	}
	return freshModel(k, st.Model, FreshSeed)
}

// linkedSample is the sample a link shows first.
func linkedSample(st explore.State) (Sample, error) {
	if st.Image == "" {
		return Samples[0], nil
	}
	for _, s := range Samples {
		if st.Image == "sample-"+s.Name {
			return s, nil
		}
	}
	return Samples[0], fmt.Errorf("the link's image %q is not a bundled sample (uploads stay in the browser that opened them); showing %s", st.Image, Samples[0].Title)
}

// linkedMask is the mask state a link sets.
func linkedMask(st explore.State, m maskState) maskState {
	if st.Ratio > 0 {
		m.Ratio = min(max(st.Ratio, MinRatio), MaxRatio)
	}
	m.Seed, m.Block, m.Hand = st.Seed, st.Block, st.Hand
	return m
}

// linkModelKey names the page's model in a link ("" when a link cannot
// reproduce it: uploaded or trained in the page).
func linkModelKey(lm *loadedModel) string {
	switch {
	case lm == nil:
		return ""
	case lm.Source == "the bundled default model":
		return linkModelDefault
	case lm.Fresh && lm.Source == fmt.Sprintf("freshly initialised (seed %d)", FreshSeed):
		return describeConfig(lm.Config)
	}
	return ""
}

// writeLink puts the current settings (the picture, the mask settings and
// the model of the shared states) into the URL, without a reload or a
// history entry; other parameters (backend=cpu) stay.
func writeLink(ctx app.Context) {
	if !app.IsClient {
		return
	}
	var ms modelState
	var ps pictureState
	var mask maskState
	ctx.GetState(stateModel, &ms)
	ctx.GetState(statePicture, &ps)
	ctx.GetState(stateMask, &mask)
	st := explore.State{Ratio: mask.Ratio, Seed: mask.Seed, Block: mask.Block, Hand: mask.Hand, Model: linkModelKey(ms.LM)}
	if ps.Pic != nil {
		st.Image = ps.Pic.Key
	}
	// The settings go into the fragment: the query stays as opened, so the
	// service worker's cached page matches on an offline reload; a view
	// setting given in the query moves to the fragment.
	loc := app.Window().Get("location")
	q, err := url.ParseQuery(strings.TrimPrefix(loc.Get("search").String(), "?"))
	if err != nil {
		q = url.Values{}
	}
	for _, k := range []string{"image", "ratio", "seed", "block", "mask", "model"} {
		q.Del(k)
	}
	target := loc.Get("pathname").String()
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	app.Window().Get("history").Call("replaceState", nil, "", target+"#"+st.Query())
}
