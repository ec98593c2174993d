package explore

import (
	"reflect"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	hand := make([]bool, 64)
	hand[0], hand[9], hand[63] = true, true, true
	odd := []bool{true, false, false, true, false, false, false, false, false, true, false}
	for _, s := range []State{
		{Image: "sample-lake", Ratio: 0.75, Seed: 1},
		{Image: "my photo & co.png", Ratio: 0.3, Seed: 18446744073709551615, Block: true, Model: "https://example.org/m.safetensors?x=1"},
		{Image: "upload-2", Ratio: 3.0 / 64, Seed: 7, Hand: hand, Model: "trained"},
		{Ratio: 0.5, Hand: odd},
	} {
		q := s.Query()
		back, ok, err := ParseState("?" + q)
		if err != nil || !ok {
			t.Fatalf("%q: %v (ok %v)", q, err, ok)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("%q: got %+v, want %+v", q, back, s)
		}
	}
	if got, want := (State{Image: "a", Ratio: 0.75, Seed: 1, Hand: odd}).Query(), "image=a&mask=11%3A9040&ratio=0.75&seed=1"; got != want {
		t.Fatalf("query %s, want %s", got, want)
	}
	if _, ok, err := ParseState("lang=en"); ok || err != nil {
		t.Fatalf("unrelated query: ok %v err %v", ok, err)
	}
	for _, bad := range []string{"ratio=1", "ratio=x", "ratio=-0.1", "seed=-1", "block=yes", "mask=64", "mask=64:zz",
		"mask=8:00", "mask=8:ff", "mask=4:1", "mask=11:9041", "mask=1:80", "image=" + string(make([]byte, 300))} {
		if _, _, err := ParseState(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
