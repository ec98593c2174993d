package ui

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
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
// actionImages. An upload whose pixels are already in the gallery selects
// the picture there instead of adding a copy; uploads can be removed.
type gallery struct {
	app.Compo

	ctx      app.Context
	hooks    *browserHooks
	pictures []picture
	digests  map[string]pixelDigest // by picture key
	current  string                 // key of the current picture
	uploads  int
	note     string // what the last upload or removal did, in words
}

// pixelDigest identifies a decoded picture: the SHA-256 of its size and
// pixels (the same file decodes to the same pixels).
type pixelDigest [sha256.Size]byte

func digestOf(p recon.Pixels) pixelDigest {
	h := sha256.New()
	var dims [24]byte
	binary.LittleEndian.PutUint64(dims[0:], uint64(p.W))
	binary.LittleEndian.PutUint64(dims[8:], uint64(p.H))
	binary.LittleEndian.PutUint64(dims[16:], uint64(p.C))
	h.Write(dims[:])
	h.Write(p.Pix)
	var d pixelDigest
	h.Sum(d[:0])
	return d
}

// keyOfDigest is the key of the picture with digest d ("" when none).
func (c *gallery) keyOfDigest(d pixelDigest) string {
	for _, pic := range c.pictures {
		if c.digests[pic.Key] == d {
			return pic.Key
		}
	}
	return ""
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
	if c.digests == nil {
		c.digests = map[string]pixelDigest{}
	}
	c.digests[pic.Key] = digestOf(pic.Pix)
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
	mark("picture")
	pic := *c.picture(key)
	ctx.SetState(statePicture, pictureState{Pic: &pic})
}

// imagesArrived takes decoded uploads (from the file picker, a drop or a
// paste): good ones join the gallery and the first becomes current (one
// already there is selected, not added again); the others are reported and
// change nothing.
func (c *gallery) imagesArrived(results []imageResult) {
	c.ctx.Dispatch(func(ctx app.Context) {
		var failed []error
		var repeated []string
		first := ""
		for _, r := range results {
			if r.Err != nil {
				failed = append(failed, r.Err)
				continue
			}
			key := c.keyOfDigest(digestOf(r.Pix))
			if key != "" {
				releaseThumb(r.Thumb)
				repeated = append(repeated, fmt.Sprintf("%s is already in the gallery as %s", r.Name, c.picture(key).Name))
			} else {
				c.uploads++
				key = "upload-" + strconv.Itoa(c.uploads)
				c.add(picture{Key: key, Name: r.Name, Pix: r.Pix, Note: r.Note, Thumb: r.Thumb}, true)
			}
			if first == "" {
				first = key
			}
		}
		c.note = ""
		if len(repeated) > 0 {
			c.note = strings.Join(repeated, "; ") + ": selected it, not added again."
		}
		showImageErrors(ctx, failed) // a good upload clears an earlier error
		if first != "" {
			c.show(ctx, first)
			revealPanels()
		}
	})
}

// onRemove removes the upload of the clicked remove button (data-key);
// when it was the current picture, the item that takes its place in the
// gallery (else the one before it) becomes current.
func (c *gallery) onRemove(ctx app.Context, e app.Event) {
	key := ctx.JSSrc().Get("dataset").Get("key").String()
	i := slices.IndexFunc(c.pictures, func(p picture) bool { return p.Key == key })
	if i < 0 || !strings.HasPrefix(key, "upload-") {
		return
	}
	order := c.order()
	pos := slices.Index(order, key)
	removed := c.pictures[i]
	c.pictures = slices.Delete(c.pictures, i, i+1)
	delete(c.digests, key)
	releaseThumb(removed.Thumb)
	c.note = fmt.Sprintf("Removed %s.", removed.Name)
	if key != c.current {
		return
	}
	order = slices.Delete(order, pos, pos+1)
	next := order[min(pos, len(order)-1)] // the samples are never removed
	c.note = fmt.Sprintf("Removed %s; showing %s.", removed.Name, c.title(next))
	c.selectKey(ctx, next)
}

// order is the keys of the gallery's items as shown: uploads, newest
// first, then every bundled sample.
func (c *gallery) order() []string {
	var keys []string
	for _, pic := range c.pictures {
		if strings.HasPrefix(pic.Key, "upload-") {
			keys = append(keys, pic.Key)
		}
	}
	for _, s := range Samples {
		keys = append(keys, "sample-"+s.Name)
	}
	return keys
}

// title is the name an item of the gallery shows.
func (c *gallery) title(key string) string {
	if pic := c.picture(key); pic != nil {
		return pic.Name
	}
	for _, s := range Samples {
		if key == "sample-"+s.Name {
			return s.Title
		}
	}
	return key
}

// selectKey makes the item with key current, fetching a bundled sample on
// first use.
func (c *gallery) selectKey(ctx app.Context, key string) {
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

func (c *gallery) onImageInput(ctx app.Context, e app.Event) {
	files := takeInputFiles("image-input")
	if len(files) == 0 {
		return
	}
	ctx.Async(func() { c.imagesArrived(files.decodeImages()) })
}

// onThumb shows the gallery item clicked (data-key), fetching a bundled
// sample on first use, and brings the panels into view (on a phone the
// gallery is below them).
func (c *gallery) onThumb(ctx app.Context, e app.Event) {
	c.note = ""
	c.selectKey(ctx, ctx.JSSrc().Get("dataset").Get("key").String())
	revealPanels()
}

// loadSample fetches and decodes a bundled sample and adds it to the
// gallery (r.Show: as the current picture). It runs in a goroutine and
// returns once the gallery has it.
func (c *gallery) loadSample(r sampleRequest) error {
	s := r.Sample
	pix, note, err := fetchImage(s.URL(), s.File)
	if err != nil {
		err = &fetchError{What: "the sample photo " + s.Title, Err: fmt.Errorf("sample %s: %w", s.Name, err)}
	}
	done := make(chan struct{})
	c.ctx.Dispatch(func(ctx app.Context) {
		defer close(done)
		if err != nil {
			showUserError(ctx, "show the sample photo", err)
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
			items = append(items, c.thumb(pic.Key, pic.Name, pic.Thumb, true))
		}
	}
	for _, s := range Samples {
		items = append(items, c.thumb("sample-"+s.Name, s.Title, s.URL(), false))
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
		app.P().Class("hint", "gallery-note").Attr("data-testid", "gallery-note").Role("status").Text(c.note),
		app.Div().Class("gallery").Body(items...),
	)
}

// thumb is a gallery item. Its handler is the same method for every item
// (go-app keeps a handler that looks unchanged, so closures over the key
// would stay bound to the item first rendered at that position); the key
// travels in data-key. An upload has a remove button (remove-<key>).
func (c *gallery) thumb(key, title, src string, removable bool) app.UI {
	return app.Div().Class("thumbbox").Body(
		app.Button().Class("thumb").Attr("data-testid", key).DataSet("key", key).
			Attr("aria-pressed", key == c.current).Title(title).OnClick(c.onThumb).Body(
			app.Img().Src(src).Alt(title).Attr("loading", "lazy"),
		),
		app.If(removable, func() app.UI {
			return app.Button().Class("thumb-remove").Attr("data-testid", "remove-"+key).DataSet("key", key).
				Aria("label", "Remove "+title).Title("Remove " + title).OnClick(c.onRemove).Text("×")
		}),
	)
}
