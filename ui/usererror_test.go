package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"webmae/engine/gpu"
	"webmae/engine/model"
	"webmae/engine/train"
)

// Every mapped error is one sentence for people: it starts with a capital
// or a file name, ends with one full stop, names what to do, and shows no
// internals (the detail goes to the console).
func TestUserMessage(t *testing.T) {
	decodeErr := errors.New("InvalidStateError: The source image could not be decoded.")
	headerErr := errors.New("safetensors: header length 2334385649822622055 exceeds the 15 bytes that follow it")
	quota := &storageError{Err: fmt.Errorf("save run.safetensors: %w", errors.New("QuotaExceededError"))}
	cases := []struct {
		name, action string
		err          error
		want         string // a regular expression the message matches
	}{
		{"not an image", "open the image", &imageError{Name: "notes.txt", Problem: imageNotImage, Type: "text/plain", Size: 13},
			`^notes\.txt is not an image \(its type is text/plain\): choose a JPEG, PNG, WebP, GIF or BMP file\.$`},
		{"broken image", "open the image", &imageError{Name: "broken.png", Problem: imageUndecodable, Type: "image/png", Err: decodeErr},
			`^broken\.png could not be decoded as an image .*: open it in an image viewer to check it, or choose another image\.$`},
		{"huge file", "open the image", &imageError{Name: "big.jpg", Problem: imageTooLarge, Type: "image/jpeg", Size: 40 << 20},
			`^big\.jpg is 40\.0 MB, over the \d+ MB this page accepts: choose a smaller image`},
		{"empty file", "open the image", &imageError{Name: "e.png", Problem: imageEmpty, Type: "image/png"}, `^e\.png is empty: choose`},
		{"corrupt weights", "load the model file", fmt.Errorf("model.safetensors with config.json: load model: %w", &model.LoadError{Part: model.PartWeights, Err: headerErr}),
			`^The weights file is not a model this page can read .*, so the page could not load the model file: choose a \.safetensors`},
		{"bad config", "load the model file", fmt.Errorf("x: %w", &model.LoadError{Part: model.PartConfig, Err: errors.New("parse config: unexpected EOF")}),
			`^The config is not a valid ViTMAE config\.json.*: choose the config\.json saved with the weights\.$`},
		{"wrong shape", "load the model file", &model.LoadError{Part: model.PartMismatch, Err: errors.New("61 mis-shaped tensors")},
			`^The weights do not fit the config \(other tensor names or shapes\), so the page could not load the model file: choose the config\.json`},
		{"storage", "keep the model in this browser", &storageError{Err: errors.New("NotAllowedError: denied")},
			`^The browser's storage is not available .*, so the page could not keep the model in this browser: allow site data`},
		{"damaged run", "read the saved run", fmt.Errorf("x: %w", &train.DamagedError{Err: headerErr}),
			`^The training run saved in this browser is damaged or cut short, so it cannot continue: start a new run, which replaces it\.$`},
		{"sample offline", "train", fmt.Errorf("training image: %w", &fetchError{What: "the sample photo Grass", Err: errors.New("fetch /web/samples/grass.jpg: TypeError: Failed to fetch")}),
			`^The sample photo Grass could not be fetched \(.*\), so the page could not train: check the connection and try again\.$`},
		{"training busy", "load another model", errTrainingBusy,
			`^A training run is using the model, so the page could not load another model: pause or stop the run first\.$`},
		{"device lost", "reconstruct the image", fmt.Errorf("submit: %w", gpu.ErrDeviceLost),
			`^The WebGPU device was lost .*continues on the CPU backend.*: reload the page to try WebGPU again\.$`},
		{"cancelled", "load org/name (the previous model stays)", fmt.Errorf("fetch: %w", errCancelled),
			`^The download was cancelled, so the page did not load org/name \(the previous model stays\)\.$`},
		{"worded", "load that model", worded(errors.New(`"x y" is not a model id: use org/name, org/name@revision or a URL to a weights file`)),
			`^Could not load that model: "x y" is not a model id: use org/name.*weights file\.$`},
		{"unexpected", "download the model", errors.New("js: TypeError: undefined is not a function"),
			`^Could not download the model because of an unexpected error \(the browser console has the details\): try again, or reload the page\.$`},
	}
	for _, c := range cases {
		msg := userMessage(c.err, c.action)
		if !regexp.MustCompile(c.want).MatchString(msg) {
			t.Errorf("%s: %q\n does not match %s", c.name, msg, c.want)
		}
		for _, internal := range []string{"InvalidStateError", "header length", "2334385649822622055", "NotAllowedError", "TypeError", "gpu: device lost"} {
			if strings.Contains(msg, internal) {
				t.Errorf("%s: %q shows %q", c.name, msg, internal)
			}
		}
		if strings.Count(msg, ". ") > 0 || !strings.HasSuffix(msg, ".") {
			t.Errorf("%s: %q is not one sentence", c.name, msg)
		}
	}
	if userMessage(nil, "x") != "" {
		t.Error("no error: a message")
	}
	// storage full is told apart in the browser only (isQuotaExceeded)
	if msg := userMessage(quota, "save the run"); !strings.Contains(msg, "could not save the run") {
		t.Errorf("storage: %q", msg)
	}
}
