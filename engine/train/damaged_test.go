package train

import (
	"errors"
	"testing"
)

// A stored checkpoint that is not one is reported as damaged (the page
// says so in words); an empty store is not an error.
func TestReadInfoDamaged(t *testing.T) {
	var empty MemStore
	if _, found, err := ReadInfo(&empty); found || err != nil {
		t.Fatalf("empty store: found %v, %v", found, err)
	}
	var st MemStore
	if err := st.Save([]byte("garbage, not a checkpoint")); err != nil {
		t.Fatal(err)
	}
	_, found, err := ReadInfo(&st)
	var d *DamagedError
	if !found || !errors.As(err, &d) {
		t.Fatalf("garbage: found %v, err %v (%T), want a DamagedError", found, err, err)
	}
}
