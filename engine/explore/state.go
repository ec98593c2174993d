package explore

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// State is what a shared explorer link reproduces: the image (a bundled
// sample's or an uploaded image's name), the masking (ratio, generator
// seed, block-wise or random, or a hand-drawn mask) and the model source.
type State struct {
	Image string
	Ratio float64
	Seed  uint64
	Block bool
	// Hand is a hand-drawn mask, one flag per patch (true: removed); nil
	// when the generator's mask is used.
	Hand  []bool
	Model string
}

// Limits of a URL state.
const (
	MaxStateName    = 256
	MaxStatePatches = 65536
)

// Query encodes s as a URL query (keys in alphabetical order, empty fields
// left out). The hand-drawn mask is "L:hex", the patch flags as a bit set,
// patch i in bit 7-(i%8) of byte i/8.
func (s State) Query() string {
	v := url.Values{}
	if s.Image != "" {
		v.Set("image", s.Image)
	}
	v.Set("ratio", strconv.FormatFloat(s.Ratio, 'g', -1, 64))
	v.Set("seed", strconv.FormatUint(s.Seed, 10))
	if s.Block {
		v.Set("block", "1")
	}
	if s.Hand != nil {
		bits := make([]byte, (len(s.Hand)+7)/8)
		for i, m := range s.Hand {
			if m {
				bits[i/8] |= 0x80 >> (i % 8)
			}
		}
		v.Set("mask", fmt.Sprintf("%d:%s", len(s.Hand), hex.EncodeToString(bits)))
	}
	if s.Model != "" {
		v.Set("model", s.Model)
	}
	return v.Encode()
}

// ParseState decodes a URL query made by Query (a leading '?' is
// allowed). Unknown keys are ignored; a present but malformed value is an
// error. ok is false when the query holds no explorer setting at all.
func ParseState(query string) (s State, ok bool, err error) {
	v, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return State{}, false, fmt.Errorf("link settings: %w", err)
	}
	for _, k := range []string{"image", "ratio", "seed", "block", "mask", "model"} {
		if v.Has(k) {
			ok = true
		}
	}
	s.Image, s.Model = v.Get("image"), v.Get("model")
	if len(s.Image) > MaxStateName || len(s.Model) > MaxStateName {
		return State{}, false, fmt.Errorf("link settings: image or model name longer than %d bytes", MaxStateName)
	}
	if r := v.Get("ratio"); r != "" {
		if s.Ratio, err = strconv.ParseFloat(r, 64); err != nil || !(s.Ratio > 0 && s.Ratio < 1) {
			return State{}, false, fmt.Errorf("link settings: ratio %q is not a number between 0 and 1", r)
		}
	}
	if sd := v.Get("seed"); sd != "" {
		if s.Seed, err = strconv.ParseUint(sd, 10, 64); err != nil {
			return State{}, false, fmt.Errorf("link settings: seed %q is not a non-negative integer", sd)
		}
	}
	switch b := v.Get("block"); b {
	case "", "0":
	case "1":
		s.Block = true
	default:
		return State{}, false, fmt.Errorf("link settings: block %q is not 0 or 1", b)
	}
	if m := v.Get("mask"); m != "" {
		if s.Hand, err = parseHand(m); err != nil {
			return State{}, false, fmt.Errorf("link settings: mask %q: %w", m, err)
		}
	}
	return s, ok, nil
}

func parseHand(m string) ([]bool, error) {
	ns, hx, found := strings.Cut(m, ":")
	if !found {
		return nil, fmt.Errorf("want PATCHES:HEX")
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 2 || n > MaxStatePatches {
		return nil, fmt.Errorf("patch count %q outside 2..%d", ns, MaxStatePatches)
	}
	bits, err := hex.DecodeString(hx)
	if err != nil || len(bits) != (n+7)/8 {
		return nil, fmt.Errorf("want %d hex digits for %d patches", 2*((n+7)/8), n)
	}
	hand := make([]bool, n)
	removed := 0
	for i := range hand {
		hand[i] = bits[i/8]&(0x80>>(i%8)) != 0
		if hand[i] {
			removed++
		}
	}
	if n%8 != 0 && bits[len(bits)-1]&(0xff>>(n%8)) != 0 {
		return nil, fmt.Errorf("bits set past patch %d", n-1)
	}
	if removed == 0 || removed == n {
		return nil, fmt.Errorf("%d of %d patches removed: at least one must be removed and one kept", removed, n)
	}
	return hand, nil
}
