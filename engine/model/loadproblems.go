package model

import (
	"errors"
	"fmt"
	"slices"
)

// LoadProblems collects what does not fit while a state_dict is loaded
// into a layout, so that the load reports every problem at once. Both
// model families' loaders use it.
type LoadProblems struct {
	Missing, Misshaped, Unexpected, NonFinite []string
	more                                      []problemList
}

type problemList struct {
	kind  string
	names []string
}

// Accept checks t against the shape the layout wants for name: a tensor
// of int64, of another shape or with a wrong length is recorded as
// mis-shaped, one with NaN or infinite values as non-finite. It reports
// whether t's values can be used.
func (p *LoadProblems) Accept(name string, want []int, t HostTensor) bool {
	if t.IsInt() {
		p.Misshaped = append(p.Misshaped, fmt.Sprintf("%s int64 (want float)", name))
		return false
	}
	if !slices.Equal(t.Shape, want) || len(t.F32) != NumElements(want) {
		p.Misshaped = append(p.Misshaped, fmt.Sprintf("%s %v (want %v)", name, t.Shape, want))
		return false
	}
	if bad := countNonFinite(t.F32); bad > 0 {
		p.NonFinite = append(p.NonFinite, fmt.Sprintf("%s (%d of %d values)", name, bad, len(t.F32)))
		return false
	}
	return true
}

// Add records a family's own kind of problem (a plural phrase) with the
// names it concerns; it is reported after the common kinds.
func (p *LoadProblems) Add(kind string, names []string) {
	if len(names) > 0 {
		p.more = append(p.more, problemList{kind, names})
	}
}

// Err joins the problems, each kind's names sorted and at most maxListed
// listed, with a hint when the missing and mis-shaped tensors are most of
// the want tensors of the layout; nil when there is none.
func (p *LoadProblems) Err(want int) error {
	lists := append([]problemList{
		{"missing", p.Missing}, {"mis-shaped", p.Misshaped},
		{"unexpected", p.Unexpected}, {"with NaN or infinite values", p.NonFinite},
	}, p.more...)
	var errs []error
	for _, l := range lists {
		if len(l.names) > 0 {
			slices.Sort(l.names)
			errs = append(errs, fmt.Errorf("%d %s: %s", len(l.names), l.kind, joinCapped(l.names, maxListed)))
		}
	}
	if 2*(len(p.Missing)+len(p.Misshaped)) > want {
		errs = append(errs, errors.New("most tensors do not fit: does the config match the weights?"))
	}
	return errors.Join(errs...)
}
