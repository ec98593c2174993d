package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/gpu"
	"webmae/engine/model"
	"webmae/engine/train"
)

// Errors a person can cause are shown as one sentence that says what
// happened and what to do (userMessage); the technical detail goes to the
// browser console. The page's code returns typed or wrapped errors for
// them (imageError, storageError, fetchError, model.LoadError,
// train.DamagedError, gpu.ErrDeviceLost, errTrainingBusy, errCancelled,
// wordedError), and every place that shows an error calls showUserError
// (or noteFor).

// imageProblem is why a file given as an image was refused.
type imageProblem int

const (
	imageTooLarge    imageProblem = iota + 1 // over MaxImageBytes
	imageNotImage                            // its type is not image/*
	imageEmpty                               // no bytes
	imageUndecodable                         // the browser could not decode it
)

// imageError is a file given as an image that the page refused.
type imageError struct {
	Name    string
	Problem imageProblem
	Type    string // the file's MIME type
	Size    int    // bytes
	Err     error  // the browser's detail, if any
}

func (e *imageError) Error() string {
	detail := ""
	if e.Err != nil {
		detail = ": " + e.Err.Error()
	}
	return fmt.Sprintf("image %s (type %q, %d bytes): problem %d%s", e.Name, e.Type, e.Size, e.Problem, detail)
}

func (e *imageError) Unwrap() error { return e.Err }

func (e *imageError) message() string {
	switch e.Problem {
	case imageTooLarge:
		return fmt.Sprintf("%s is %.1f MB, over the %d MB this page accepts: choose a smaller image or save it at a lower resolution first.",
			e.Name, float64(e.Size)/(1<<20), MaxImageBytes>>20)
	case imageNotImage:
		return fmt.Sprintf("%s is not an image (its type is %s): choose a JPEG, PNG, WebP, GIF or BMP file.", e.Name, e.Type)
	case imageEmpty:
		return fmt.Sprintf("%s is empty: choose the file again, or another image.", e.Name)
	}
	return fmt.Sprintf("%s could not be decoded as an image (it is damaged, cut short or in a format this browser cannot read): open it in an image viewer to check it, or choose another image.", e.Name)
}

// fetchError is a file of the site (a sample photo) that could not be
// fetched. Its text is the cause's.
type fetchError struct {
	What string // what it is, for people: "the sample photo Grass"
	Err  error
}

func (e *fetchError) Error() string { return e.Err.Error() }
func (e *fetchError) Unwrap() error { return e.Err }

// storageError is a failure of the browser's storage (the origin private
// file system). Its text is the cause's.
type storageError struct{ Err error }

func (e *storageError) Error() string { return e.Err.Error() }
func (e *storageError) Unwrap() error { return e.Err }

// markStorage marks a storage function's error (deferred with its named
// result).
func markStorage(err *error) {
	if *err != nil {
		*err = &storageError{Err: *err}
	}
}

// errTrainingBusy is an action refused while a training run holds the
// model.
var errTrainingBusy = errors.New("a training run is using the model")

// wordedError is an error whose text is already written for people (a
// clause that names the problem and, where it helps, what to do).
type wordedError struct{ Err error }

func (e *wordedError) Error() string { return e.Err.Error() }
func (e *wordedError) Unwrap() error { return e.Err }

// worded marks err's text as written for people.
func worded(err error) error {
	if err == nil {
		return nil
	}
	return &wordedError{Err: err}
}

// userMessage is err as one sentence for the person using the page: what
// happened and what to do. action is what they were doing, as a verb
// phrase ("load the model file"), for errors that say less themselves.
func userMessage(err error, action string) string {
	var (
		img     *imageError
		load    *model.LoadError
		storage *storageError
		damaged *train.DamagedError
		fetch   *fetchError
		w       *wordedError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &img):
		return img.message()
	case errors.Is(err, gpu.ErrDeviceLost):
		return "The WebGPU device was lost (the graphics driver restarted or ran out of memory), so the page continues on the CPU backend, which is slower: reload the page to try WebGPU again."
	case errors.As(err, &load):
		return loadMessage(load.Part, action)
	case errors.As(err, &damaged):
		return "The training run saved in this browser is damaged or cut short, so it cannot continue: start a new run, which replaces it."
	case errors.As(err, &storage):
		return storageMessage(storage, action)
	case errors.As(err, &fetch):
		return fmt.Sprintf("%s could not be fetched (the page is offline without it cached, or the server did not answer), so the page could not %s: check the connection and try again.", capitalised(fetch.What), action)
	case errors.Is(err, errTrainingBusy):
		return fmt.Sprintf("A training run is using the model, so the page could not %s: pause or stop the run first.", action)
	case errors.Is(err, errCancelled):
		return fmt.Sprintf("The download was cancelled, so the page did not %s.", action)
	case errors.As(err, &w):
		return fmt.Sprintf("Could not %s: %s.", action, strings.TrimSuffix(w.Error(), "."))
	}
	return fmt.Sprintf("Could not %s because of an unexpected error (the browser console has the details): try again, or reload the page.", action)
}

// capitalised is s with its first letter upper-case.
func capitalised(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// loadMessage says what to do about a model that could not be loaded.
func loadMessage(part model.LoadPart, action string) string {
	problem, remedy := "The weights do not fit the config (other tensor names or shapes)",
		"choose the config.json saved with these weights"
	switch part {
	case model.PartWeights:
		problem, remedy = "The weights file is not a model this page can read (another format, cut short or damaged)",
			"choose a .safetensors, .pth, .pt or .bin file of an MAE model"
	case model.PartConfig:
		problem, remedy = "The config is not a valid ViTMAE config.json, or these weights need theirs",
			"choose the config.json saved with the weights"
	}
	return fmt.Sprintf("%s, so the page could not %s: %s.", problem, action, remedy)
}

// storageMessage says what to do when the browser's storage failed.
func storageMessage(e *storageError, action string) string {
	if isQuotaExceeded(e) {
		return fmt.Sprintf("The browser's storage for this page is full, so the page could not %s: delete kept models in the Model card, or free disk space, and try again.", action)
	}
	return fmt.Sprintf("The browser's storage is not available (a private window or a setting that blocks site data can cause this), so the page could not %s: allow site data for this page and try again.", action)
}

// showUserError shows err as one sentence (userMessage) and writes its
// detail to the console as a warning: the mistakes a person can make are
// handled, not faults of the page.
func showUserError(ctx app.Context, action string, err error) {
	if err == nil {
		return
	}
	consoleWarn(fmt.Sprintf("webmae: could not %s: %v", action, err))
	showError(ctx, userMessage(err, action))
}

// noteFor is userMessage for a note on the page (not the error banner),
// with the detail written to the console.
func noteFor(err error, action string) string {
	consoleWarn(fmt.Sprintf("webmae: could not %s: %v", action, err))
	return userMessage(err, action)
}

// showImageErrors shows the refused images, one sentence each, or clears
// the error banner when there are none.
func showImageErrors(ctx app.Context, errs []error) {
	var msgs []string
	for _, err := range errs {
		consoleWarn(fmt.Sprintf("webmae: image refused: %v", err))
		msgs = append(msgs, userMessage(err, "open the image"))
	}
	showError(ctx, strings.Join(msgs, " "))
}
