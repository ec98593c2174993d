package gpu

import _ "embed"

// A submit's commands, replayed in the browser (replay_js.go), are a list
// of uint32 words: an opcode and its operands. commands.js decodes them
// with the opcode table below, which the Go side passes to it, so the
// numbers are written once.
const (
	opPipeline  = 1 // index
	opBindGroup = 2 // index, dynamic offset
	opDispatch  = 3 // x, y
	opCopy      = 4 // src index, src offset lo, hi, dst index, dst offset lo, hi, size lo, hi
)

// opcodeTable is the table commands.js receives, by the names it uses.
func opcodeTable() map[string]any {
	return map[string]any{"PIPELINE": opPipeline, "BIND_GROUP": opBindGroup, "DISPATCH": opDispatch, "COPY": opCopy}
}

// The encoders of the four commands.

func opsPipeline(ops []uint32, pipe uint32) []uint32 { return append(ops, opPipeline, pipe) }

func opsBindGroup(ops []uint32, group, off uint32) []uint32 {
	return append(ops, opBindGroup, group, off)
}

func opsDispatch(ops []uint32, x, y uint32) []uint32 { return append(ops, opDispatch, x, y) }

func opsCopy(ops []uint32, src uint32, srcOff uint64, dst uint32, dstOff, size uint64) []uint32 {
	return append(ops, opCopy, src, uint32(srcOff), uint32(srcOff>>32),
		dst, uint32(dstOff), uint32(dstOff>>32), uint32(size), uint32(size>>32))
}

// commandsJS is the JavaScript side of the replay: a function of the opcode
// table returning {replay, profile}.
//
//go:embed commands.js
var commandsJS string
