package model

// TensorSpec is one tensor of a model family's parameter list: its name,
// shape and AdamW group, and, when Dst is not nil, where Place writes its
// span.
type TensorSpec struct {
	Name  string
	Shape []int
	Group Group
	Dst   *Span
}

// Placement is a flat parameter buffer's tensors placed group by group
// (decay, no decay, frozen; declaration order inside a group), so that
// each AdamW group is one contiguous range. Every model family's layout
// embeds one.
type Placement struct {
	Tensors []Tensor
	Total   int
	Groups  [numGroups]Span // indexed by GroupDecay, GroupNoDecay, GroupFrozen
	index   map[string]int
}

// Place lays out specs and writes each tensor's span to its Dst.
func Place(specs []TensorSpec) Placement {
	p := Placement{index: make(map[string]int, len(specs))}
	off := 0
	for g := Group(0); g < numGroups; g++ {
		start := off
		for _, s := range specs {
			if s.Group != g {
				continue
			}
			t := Tensor{Name: s.Name, Shape: s.Shape, Span: Span{off, NumElements(s.Shape)}, Group: g}
			p.index[s.Name] = len(p.Tensors)
			p.Tensors = append(p.Tensors, t)
			if s.Dst != nil {
				*s.Dst = t.Span
			}
			off += t.Len
		}
		p.Groups[g] = Span{start, off - start}
	}
	p.Total = off
	return p
}

// Lookup returns the tensor with the given name.
func (p *Placement) Lookup(name string) (Tensor, bool) {
	i, ok := p.index[name]
	if !ok {
		return Tensor{}, false
	}
	return p.Tensors[i], true
}

// Trainable lists the tensors AdamW updates (every group but frozen).
func (p *Placement) Trainable() []Tensor {
	var out []Tensor
	for _, t := range p.Tensors {
		if t.Group != GroupFrozen {
			out = append(out, t)
		}
	}
	return out
}
