package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// argKind is how a pickle opcode's inline argument is encoded.
type argKind int8

const (
	argNone  argKind = iota
	argLine          // up to and including '\n'
	argLine2         // two lines (GLOBAL, INST)
	argFixed         // a fixed number of bytes
	argLen1          // 1-byte length, then that many bytes
	argLen4          // 4-byte little-endian length, then that many bytes
	argLen8          // 8-byte little-endian length, then that many bytes
)

type opArg struct {
	kind argKind
	n    int // the byte count of argFixed
}

// pickleOps lists every opcode of pickle protocols 0-5 with its inline
// argument (CPython's Lib/pickletools.py). Anything else is not a pickle.
var pickleOps = func() [256]*opArg {
	var t [256]*opArg
	set := func(codes string, a opArg) {
		for i := 0; i < len(codes); i++ {
			t[codes[i]] = &a
		}
	}
	set("(.012NRabd}el]ot)usQ\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98", opArg{kind: argNone})
	set("FILSVPgp", opArg{kind: argLine})
	set("ci", opArg{kind: argLine2})
	set("Khq\x80\x82", opArg{kind: argFixed, n: 1})
	set("M\x83", opArg{kind: argFixed, n: 2})
	set("Jjr\x84", opArg{kind: argFixed, n: 4})
	set("G\x95", opArg{kind: argFixed, n: 8})
	set("UC\x8c\x8a", opArg{kind: argLen1})
	set("TXB\x8b", opArg{kind: argLen4})
	set("\x8d\x8e\x96", opArg{kind: argLen8})
	return t
}()

// scanPickle walks the opcodes of the pickle at the start of b without
// building anything and returns its length (up to and including STOP). It
// checks that every opcode is known and that every inline argument and
// length-prefixed string lies inside b, so the unpickler never allocates
// more than the input holds.
func scanPickle(b []byte) (int, error) {
	pos := 0
	for pos < len(b) {
		op := b[pos]
		a := pickleOps[op]
		if a == nil {
			return 0, fmt.Errorf("pickle: unknown opcode 0x%02x at byte %d", op, pos)
		}
		start := pos
		pos++
		rest := len(b) - pos
		var n int
		switch a.kind {
		case argLine, argLine2:
			lines := 1
			if a.kind == argLine2 {
				lines = 2
			}
			for ; lines > 0; lines-- {
				i := bytes.IndexByte(b[pos:], '\n')
				if i < 0 {
					return 0, fmt.Errorf("pickle: opcode 0x%02x at byte %d: unterminated line", op, start)
				}
				pos += i + 1
			}
			continue
		case argFixed:
			n = a.n
		case argLen1, argLen4, argLen8:
			w := map[argKind]int{argLen1: 1, argLen4: 4, argLen8: 8}[a.kind]
			if rest < w {
				return 0, fmt.Errorf("pickle: opcode 0x%02x at byte %d: truncated length", op, start)
			}
			var l uint64
			switch w {
			case 1:
				l = uint64(b[pos])
			case 4:
				l = uint64(binary.LittleEndian.Uint32(b[pos:]))
			case 8:
				l = binary.LittleEndian.Uint64(b[pos:])
			}
			pos += w
			if l > uint64(len(b)-pos) {
				return 0, fmt.Errorf("pickle: opcode 0x%02x at byte %d: length %d exceeds the %d bytes left", op, start, l, len(b)-pos)
			}
			n = int(l)
			rest = len(b) - pos
		}
		if n > rest {
			return 0, fmt.Errorf("pickle: opcode 0x%02x at byte %d: truncated argument", op, start)
		}
		if op == 0x95 { // FRAME: its length must lie inside the input too
			if l := binary.LittleEndian.Uint64(b[pos:]); l > uint64(len(b)-pos-8) {
				return 0, fmt.Errorf("pickle: frame at byte %d of %d bytes exceeds the %d bytes left", start, l, len(b)-pos-8)
			}
		}
		if op == 0x80 && b[pos] > 5 {
			return 0, fmt.Errorf("pickle: protocol %d is not supported (at most 5)", b[pos])
		}
		pos += n
		if op == '.' {
			return pos, nil
		}
	}
	return 0, fmt.Errorf("pickle: no STOP opcode in %d bytes", len(b))
}
