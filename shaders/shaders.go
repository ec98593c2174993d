// Package shaders embeds the WGSL compute shaders of the WebGPU backend
// (package engine/gpu). Every file holds one kernel family; its header comment
// states the row-major layouts and what one thread and one workgroup compute.
//
// Conventions shared by all files (engine/gpu reads the contract of each
// file from its source, so it is declared once, here):
//   - @group(0) @binding(0) is `var<uniform> P: Params`, the kernel's
//     parameter block, bound with a dynamic offset into a per-step uniform
//     arena. Every field of `struct Params` is one u32 or f32 word; the host
//     sets them by name.
//   - @binding(1..n) are storage buffers, numbered without gaps. A binding
//     is declared `read` where the kernel only reads it and it may share a
//     buffer with another read-only binding of the same dispatch (matmul's
//     operands and bias, layernorm's gamma and beta: browsers accept
//     overlapping ranges of one buffer only when all are read-only), and
//     `read_write` otherwise (one buffer may not be bound both read-only
//     and writable in a dispatch, and views of one flat buffer often meet
//     in a kernel).
//   - Every view is passed as a binding plus an element offset: the offset
//     of binding NAME is the field off_NAME of Params. The binding covers
//     an aligned range of the buffer that contains the view.
//   - Workgroup and tile sizes are named `const`s; engine/gpu reads them from
//     the source.
//   - Specialisations (e.g. matmul transposes) are `const NAME = false;`
//     lines that engine/gpu rewrites before compiling; line numbers stay.
//   - A line `// #include NAME.wgsl` appends that library file (functions,
//     consts and workgroup scratch only: erf.wgsl, reductions.wgsl,
//     element.wgsl) after the including file's own text: WGSL declarations
//     may come in any order, and the including file's line numbers stay
//     those of its source.
//   - A library NAME.wgsl may have a form on subgroup operations,
//     NAME_subgroups.wgsl, with the same functions. Source with
//     Variant.Subgroups includes it instead and puts `enable subgroups;` at
//     the start of the including file's first line (a comment line, so
//     line numbers stay; Variant.NoEnable leaves it out for naga); files
//     that include no such library are unchanged.
package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
)

//go:embed *.wgsl
var files embed.FS

var includeLine = regexp.MustCompile(`(?m)^// #include ([a-z0-9_]+\.wgsl)$`)

// Variant selects the form of the libraries a file includes.
type Variant struct {
	// Subgroups includes the NAME_subgroups.wgsl form of each library that
	// has one; the device must have the `subgroups` feature.
	Subgroups bool
	// NoEnable leaves out the `enable subgroups;` directive, for compilers
	// that reject it and take subgroup operations whenever the device has
	// the feature (wgpu-native's naga).
	NoEnable bool
}

// subgroupsSuffix names the subgroup form of a library.
const subgroupsSuffix = "_subgroups.wgsl"

// enableSubgroups is put before the first line of a file that includes a
// library in its subgroup form.
const enableSubgroups = "enable subgroups; "

// Source returns the WGSL text of the named file (e.g. "matmul.wgsl"),
// each file it includes appended once, in the form v selects.
func Source(name string, v Variant) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("shaders: %w", err)
	}
	src := string(b)
	seen := map[string]bool{name: true}
	usesSubgroups := false
	for _, m := range includeLine.FindAllStringSubmatch(src, -1) {
		lib := m[1]
		if seen[lib] {
			continue
		}
		seen[lib] = true
		text, err := files.ReadFile(lib)
		if err != nil {
			return "", fmt.Errorf("shaders: %s includes %s: %w", name, lib, err)
		}
		if v.Subgroups {
			alt := strings.TrimSuffix(lib, ".wgsl") + subgroupsSuffix
			if sg, err := files.ReadFile(alt); err == nil { // a library without this form has no such file
				lib, text, usesSubgroups = alt, sg, true
			}
		}
		if includeLine.Match(text) {
			return "", fmt.Errorf("shaders: %s includes %s, which includes another file (one level only)", name, lib)
		}
		src += "\n// ---- " + lib + " (included) ----\n" + string(text)
	}
	if usesSubgroups && !v.NoEnable {
		src = enableSubgroups + src
	}
	return src, nil
}

// Names lists the embedded WGSL files.
func Names() []string {
	names, err := fs.Glob(files, "*.wgsl")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	return names
}
