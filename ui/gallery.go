package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"webmae/engine/recon"
)

// gallery is the Images card: the pictures the page can reconstruct and
// train on (uploads first, newest first, then the bundled samples as they
// are fetched), the file picker, and drop and paste anywhere on the page.
// It publishes the current picture (statePicture) and whether files are
// dragged over the page (stateDragging), and serves actionSample and
// actionImages.
type gallery struct {
	app.Compo

	ctx      app.Context
	hooks    *browserHooks
	pictures []picture
	current  string // key of the current picture
	uploads  int
}

func (c *gallery) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.ctx = ctx
	c.hooks = installHooks(c.imagesArrived, func(on bool) { ctx.SetState(stateDragging, on) })
	ctx.Handle(actionSample, func(ctx app.Context, a app.Action) {
		if r, ok := a.Value.(sampleRequest); ok {
			ctx.Async(func() { c.loadSample(r) })
		}
	})
	ctx.Handle(actionImages, c.onImagesRequest)
}

// OnDismount stops the listeners.
func (c *gallery) OnDismount() {
	if c.hooks != nil {
		c.hooks.release()
	}
}

func (c *gallery) picture(key string) *picture {
	for i := range c.pictures {
		if c.pictures[i].Key == key {
			return &c.pictures[i]
		}
	}
	return nil
}

// add adds (or replaces) a picture: uploads go first, newest first.
func (c *gallery) add(pic picture, upload bool) {
	if old := c.picture(pic.Key); old != nil {
		*old = pic
		return
	}
	if upload {
		c.pictures = append([]picture{pic}, c.pictures...)
		return
	}
	c.pictures = append(c.pictures, pic)
}

// show makes the picture with key current.
func (c *gallery) show(ctx app.Context, key string) {
	c.current = key
	pic := *c.picture(key)
	ctx.SetState(statePicture, pictureState{Pic: &pic})
}

// imagesArrived takes decoded uploads (from the file picker, a drop or a
// paste): good ones join the gallery and the first becomes current; the
// others are reported and change nothing.
func (c *gallery) imagesArrived(results []imageResult) {
	c.ctx.Dispatch(func(ctx app.Context) {
		var errs []error
		first := ""
		for _, r := range results {
			if r.Err != nil {
				errs = append(errs, r.Err)
				continue
			}
			c.uploads++
			key := "upload-" + strconv.Itoa(c.uploads)
			c.add(picture{Key: key, Name: r.Name, Pix: r.Pix, Note: r.Note, Thumb: r.Thumb}, true)
			if first == "" {
				first = key
			}
		}
		msg := "" // a good upload clears an earlier error
		if len(errs) > 0 {
			msg = errors.Join(errs...).Error()
		}
		showError(ctx, msg)
		if first != "" {
			c.show(ctx, first)
		}
	})
}

func (c *gallery) onImageInput(ctx app.Context, e app.Event) {
	files := takeInputFiles("image-input")
	if len(files) == 0 {
		return
	}
	ctx.Async(func() { c.imagesArrived(files.decodeImages()) })
}

// onThumb shows the gallery item clicked (data-key), fetching a bundled
// sample on first use.
func (c *gallery) onThumb(ctx app.Context, e app.Event) {
	key := ctx.JSSrc().Get("dataset").Get("key").String()
	if c.picture(key) != nil {
		c.show(ctx, key)
		return
	}
	for _, s := range Samples {
		if key == "sample-"+s.Name {
			ctx.Async(func() { c.loadSample(sampleRequest{Sample: s, Show: true}) })
		}
	}
}

// loadSample fetches and decodes a bundled sample and adds it to the
// gallery (r.Show: as the current picture). It runs in a goroutine and
// returns once the gallery has it.
func (c *gallery) loadSample(r sampleRequest) error {
	s := r.Sample
	pix, note, err := fetchImage(s.URL(), s.File)
	if err != nil {
		err = fmt.Errorf("sample %s: %w", s.Name, err)
	}
	done := make(chan struct{})
	c.ctx.Dispatch(func(ctx app.Context) {
		defer close(done)
		if err != nil {
			showError(ctx, err.Error())
			return
		}
		key := "sample-" + s.Name
		c.add(picture{Key: key, Name: s.Title, Pix: pix, Note: note, Thumb: s.URL()}, false)
		if r.Show {
			c.show(ctx, key)
		}
	})
	<-done
	if r.Done != nil {
		r.Done(err)
	}
	return err
}

// onImagesRequest gathers the training set: the current picture first (the
// preview), then the other uploads, then every sample, fetching the
// samples not loaded yet (with r.Loaded: only the samples loaded).
func (c *gallery) onImagesRequest(ctx app.Context, a app.Action) {
	r, ok := a.Value.(imagesRequest)
	if !ok {
		return
	}
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if c.picture(c.current) != nil {
		add(c.current)
	}
	for _, pic := range c.pictures {
		if strings.HasPrefix(pic.Key, "upload-") {
			add(pic.Key)
		}
	}
	var missing []Sample
	for _, s := range Samples {
		k := "sample-" + s.Name
		if c.picture(k) == nil && !r.Loaded {
			missing = append(missing, s)
		}
		add(k)
	}
	ctx.Async(func() {
		for i, s := range missing {
			if err := c.loadSample(sampleRequest{Sample: s}); err != nil {
				r.Done(nil, nil, fmt.Errorf("training image: %w", err))
				return
			}
			if r.Progress != nil {
				r.Progress(i+1, len(missing))
			}
		}
		c.ctx.Dispatch(func(app.Context) {
			var images []recon.Pixels
			var names []string
			for _, k := range keys {
				if pic := c.picture(k); pic != nil {
					images = append(images, pic.Pix)
					names = append(names, pic.Name)
				}
			}
			go r.Done(images, names, nil)
		})
	})
}

func (c *gallery) Render() app.UI {
	var items []app.UI
	for _, pic := range c.pictures {
		if strings.HasPrefix(pic.Key, "upload-") {
			items = append(items, c.thumb(pic.Key, pic.Name, pic.Thumb))
		}
	}
	for _, s := range Samples {
		items = append(items, c.thumb("sample-"+s.Name, s.Title, s.URL()))
	}
	return app.Aside().Class("card", "images").Body(
		app.H2().Text("Images"),
		app.Div().Class("open").Body(
			app.Label().For("image-input").Class("button", "primary").Text("Open images…"),
			app.Input().Type("file").ID("image-input").Attr("data-testid", "image-input").Class("hidden-input").
				Accept("image/*").Multiple(true).OnChange(c.onImageInput),
			app.Span().Class("hint").Text("or drop or paste them anywhere on the page"),
		),
		app.P().Class("hint").Text(fmt.Sprintf("Decoded in the browser; larger than %d px is downscaled, over %d MB refused; then centre-cropped and resized to the model's input.", MaxImageSide, MaxImageBytes>>20)),
		app.Div().Class("gallery").Body(items...),
	)
}

// thumb is a gallery item. Its handler is the same method for every item
// (go-app keeps a handler that looks unchanged, so closures over the key
// would stay bound to the item first rendered at that position); the key
// travels in data-key.
func (c *gallery) thumb(key, title, src string) app.UI {
	return app.Button().Class("thumb").Attr("data-testid", key).DataSet("key", key).
		Attr("aria-pressed", key == c.current).Title(title).OnClick(c.onThumb).Body(
		app.Img().Src(src).Alt(title).Attr("loading", "lazy"),
	)
}
