package gpu

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"webmae/engine/backend"
)

// contract is what a WGSL file declares to the host, read from its source
// (see package shaders): the storage bindings, with their names and access
// modes, and the fields of the uniform block `struct Params`. Launchers set
// the fields by name and bind views to slots; the element offset of the
// view bound to binding NAME goes to the field off_NAME.
type contract struct {
	file   string
	slots  int              // storage bindings 1..slots
	ro     uint8            // bit i: binding i is var<storage, read>
	names  [maxSlots]string // variable name of binding i+1
	offs   [maxSlots]int    // field index of off_<name> of binding i+1
	fields []field          // struct Params, one word each, in order
	index  map[string]int   // field name -> word
}

// field is one word of the uniform block.
type field struct {
	name  string
	float bool // f32 (else u32)
}

var (
	paramsStruct = regexp.MustCompile(`(?ms)^struct Params \{\n(.*?)^\}`)
	paramsField  = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([a-z0-9]+)\s*,?\s*(//.*)?$`)
	bindingDecl  = regexp.MustCompile(`(?m)^@group\((\d+)\) @binding\((\d+)\) var<([a-z_, ]+)> ([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^;]+);`)
)

// parseContract reads the bindings and the uniform block of a WGSL source.
func parseContract(file, src string) (*contract, error) {
	c := &contract{file: file, index: map[string]int{}}
	if err := c.parseParams(src); err != nil {
		return nil, err
	}
	if err := c.parseBindings(src); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *contract) parseParams(src string) error {
	m := paramsStruct.FindStringSubmatch(src)
	if m == nil {
		return fmt.Errorf("gpu: %s: no `struct Params { ... }` block", c.file)
	}
	for _, line := range strings.Split(m[1], "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		f := paramsField.FindStringSubmatch(line)
		if f == nil {
			return fmt.Errorf("gpu: %s: struct Params: cannot read the line %q (one `name: u32,` or `name: f32,` per line)", c.file, strings.TrimSpace(line))
		}
		if f[2] != "u32" && f[2] != "f32" {
			return fmt.Errorf("gpu: %s: struct Params field %s has type %s; the host writes u32 and f32 words only", c.file, f[1], f[2])
		}
		if _, dup := c.index[f[1]]; dup {
			return fmt.Errorf("gpu: %s: struct Params declares %s twice", c.file, f[1])
		}
		c.index[f[1]] = len(c.fields)
		c.fields = append(c.fields, field{name: f[1], float: f[2] == "f32"})
	}
	if len(c.fields) > paramWords {
		return fmt.Errorf("gpu: %s: struct Params has %d fields; a uniform slot holds %d", c.file, len(c.fields), paramWords)
	}
	return nil
}

func (c *contract) parseBindings(src string) error {
	seen := map[int]bool{}
	uniform := false
	for _, m := range bindingDecl.FindAllStringSubmatch(src, -1) {
		group, _ := strconv.Atoi(m[1])
		slot, _ := strconv.Atoi(m[2])
		space, name, typ := strings.ReplaceAll(m[3], " ", ""), m[4], strings.TrimSpace(m[5])
		if group != 0 || seen[slot] {
			return fmt.Errorf("gpu: %s: binding %s of group %d: want each binding of group 0 once", c.file, m[2], group)
		}
		seen[slot] = true
		if slot == 0 {
			if space != "uniform" || typ != "Params" {
				return fmt.Errorf("gpu: %s: binding 0 must be `var<uniform> P: Params`", c.file)
			}
			uniform = true
			continue
		}
		if slot > maxSlots {
			return fmt.Errorf("gpu: %s: binding %d: at most %d storage bindings", c.file, slot, maxSlots)
		}
		switch space {
		case "storage,read":
			c.ro |= 1 << slot
		case "storage,read_write":
		default:
			return fmt.Errorf("gpu: %s: binding %d (%s) is var<%s>; want storage, read or read_write", c.file, slot, name, m[3])
		}
		off, ok := c.index["off_"+name]
		if !ok || c.fields[off].float {
			return fmt.Errorf("gpu: %s: binding %d (%s) has no u32 field off_%s in struct Params", c.file, slot, name, name)
		}
		c.names[slot-1], c.offs[slot-1] = name, off
		c.slots = max(c.slots, slot)
	}
	if !uniform {
		return fmt.Errorf("gpu: %s: no `@group(0) @binding(0) var<uniform> P: Params`", c.file)
	}
	for s := 1; s <= c.slots; s++ {
		if !seen[s] {
			return fmt.Errorf("gpu: %s: storage bindings must be numbered 1..%d without gaps; %d is missing", c.file, c.slots, s)
		}
	}
	return nil
}

// call collects the bindings and parameters of one dispatch.
type call struct {
	p      *pipeline
	binds  [maxSlots]binding
	params [paramWords]uint32
	given  uint32 // bit i: field i was set

	views [maxSlots]backend.View // the view bound to each slot (for staging)
	bound [maxSlots]bool         // slot i+1 holds a view
}

// word returns the index of field name, checking its type; a name the
// file's struct Params does not declare is a bug in a launcher.
func (c *call) word(name string, float bool) int {
	k := c.p.contract
	i, ok := k.index[name]
	if !ok {
		panic(fmt.Sprintf("gpu: %s %s: struct Params has no field %q (fields: %s)", k.file, c.p.k.entry, name, k.fieldNames()))
	}
	if k.fields[i].float != float {
		panic(fmt.Sprintf("gpu: %s %s: field %s is %s", k.file, c.p.k.entry, name, k.fields[i].typ()))
	}
	return i
}

// u sets the u32 field name.
func (c *call) u(name string, v int) {
	if v < 0 || uint64(v) > math.MaxUint32 {
		panic(fmt.Sprintf("gpu: %s %s: field %s = %d does not fit a u32", c.p.contract.file, c.p.k.entry, name, v))
	}
	i := c.word(name, false)
	c.params[i] = uint32(v)
	c.given |= 1 << i
}

// f sets the f32 field name.
func (c *call) f(name string, v float32) {
	i := c.word(name, true)
	c.params[i] = math.Float32bits(v)
	c.given |= 1 << i
}

// complete reports the fields of struct Params the launcher did not set:
// every word a dispatch uploads is one the launcher chose.
func (c *call) complete() error {
	k := c.p.contract
	var missing []string
	for i, f := range k.fields {
		if c.given&(1<<i) == 0 {
			missing = append(missing, f.name)
		}
	}
	if missing != nil {
		return fmt.Errorf("gpu: %s %s: struct Params fields not set: %s", k.file, c.p.k.entry, strings.Join(missing, ", "))
	}
	return nil
}

func (f field) typ() string {
	if f.float {
		return "f32"
	}
	return "u32"
}

func (c *contract) fieldNames() string {
	names := make([]string, len(c.fields))
	for i, f := range c.fields {
		names[i] = f.name + ": " + f.typ()
	}
	return strings.Join(names, ", ")
}
