package gpu

import (
	"context"
	"testing"

	"webmae/engine/backend"
)

func TestSmoke(t *testing.T) {
	b, err := New(context.Background())
	if err != nil {
		t.Skip(err)
	}
	defer b.Release()
	t.Log(b.Name(), b.Info())
	if err := b.Warm(); err != nil {
		t.Fatal(err)
	}
	buf := b.NewBuffer(10)
	v := backend.Whole(buf)
	b.Write(v, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	b.Add(v.Sub(0, 5), v.Sub(5, 5))
	out := make([]float32, 10)
	if err := b.Read(v, out); err != nil {
		t.Fatal(err)
	}
	t.Log(out)
}
