package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/recon"
)

// The demo page is a root (Page, page.go) and one component per job, which
// share what they must through go-app states (set by one component,
// observed by others) and actions (requests to whichever component
// handles them). This file names them all.
//
//	component    file          owns                               sets / posts
//	Page         page.go       layout, start-up, device loss      stateSession, stateBackend, stateModel
//	statusBar    status.go     header chips                       -
//	banners      status.go     error, loading, update banners     -
//	reconView    reconview.go  masking, the four panels, metrics  stateMask, actionQuery
//	gallery      gallery.go    pictures, uploads, drop and paste  statePicture, stateDragging
//	trainPanel   training.go   the training run and its lifecycle stateTraining, stateModel
//	modelPanel   modelpanel.go model facts, loading, download     stateModel, stateKept
//	hubPanel     hub.go        models by id or URL, kept models   stateModel, stateKept
//	explorer     explorer*.go  attention, sweep, complete recon,  stateAttention
//	                           embeddings, pipeline stages
//
// Page also keeps the page's URL (link.go): it reads the settings of a
// link at start-up (actionSetMask, actionSample) and writes them when
// stateModel, statePicture or stateMask change.
//
// A new component (a model store, another model family) observes the
// states it needs and posts actions; the backend is used only through
// the session (session.go).
const (
	stateSession  = "webmae.session"  // sessionRef: the backend owner
	stateBackend  = "webmae.backend"  // backendState: what the header says
	stateModel    = "webmae.model"    // modelState: the model the page shows
	statePicture  = "webmae.picture"  // pictureState: the picture reconstructed
	stateTraining = "webmae.training" // trainingState: the run, for other components
	stateDragging = "webmae.dragging" // bool: files are dragged over the page
	// stateMask is the mask settings (maskState) of the reconstruction
	// shown, published by reconView with each reconstruction it asks for.
	stateMask = "webmae.mask"
	// stateAttention (bool) is set by the explorer while its attention view
	// is on: a click on the masked view then picks the query patch
	// (actionQuery) instead of toggling the patch.
	stateAttention = "webmae.attention"
	stateKept      = "webmae.kept" // keptState: the models kept in browser storage
)

const (
	actionError      = "webmae.error"       // string: show the error banner ("" hides it)
	actionLoading    = "webmae.loading"     // loadingState: the loading banner
	actionDeviceLost = "webmae.device-lost" // error: the WebGPU device is gone (Page)
	actionRecover    = "webmae.recover"     // the run must come back on the CPU (trainPanel)
	actionRecon      = "webmae.recon"       // redraw the main view (reconView)
	actionSample     = "webmae.sample"      // sampleRequest: fetch a bundled sample (gallery)
	actionImages     = "webmae.images"      // imagesRequest: the training images (gallery)
	actionSetMask    = "webmae.set-mask"    // maskState: use these mask settings (reconView; a link's)
	actionQuery      = "webmae.query"       // int: the patch clicked in attention mode (explorer)
)

type backendState struct{ Text, Adapter string }

type modelState struct{ LM *loadedModel }

// keptState is the index of the models kept in browser storage
// (modelstore.go) and Note, a storage problem to show ("" when none).
type keptState struct {
	Index modelIndex
	Note  string
}

// pictureState is the picture being reconstructed (Pic nil: none yet).
type pictureState struct{ Pic *picture }

// trainingState says whether a run holds the page: Busy while it is
// prepared or stepped (no other model may be loaded), HasRun while its
// model is the page's (after a device loss the run restores it).
type trainingState struct{ Busy, HasRun bool }

// loadingState is the loading banner: Text "" hides it; Progress in
// [0, 1], or < 0 when unknown.
type loadingState struct {
	Text     string
	Progress float64
}

// sampleRequest asks the gallery to fetch a bundled sample and add it
// (Show: and make it current); Done, if set, receives the outcome.
type sampleRequest struct {
	Sample Sample
	Show   bool
	Done   func(error)
}

// imagesRequest asks the gallery for the training set: the current
// picture first (the preview), then the other uploads, then every sample
// (fetching those not loaded yet; with Loaded, only the samples already
// loaded). Done runs on a goroutine.
type imagesRequest struct {
	Loaded bool
	Done   func(images []recon.Pixels, names []string, err error)
	// Progress, when set, hears of each sample loaded (done of total).
	Progress func(done, total int)
}

// showError posts the error banner from any goroutine.
func showError(ctx app.Context, msg string) { ctx.NewActionWithValue(actionError, msg) }

// setLoading posts the loading banner from any goroutine.
func setLoading(ctx app.Context, text string, progress float64) {
	ctx.NewActionWithValue(actionLoading, loadingState{Text: text, Progress: progress})
}
