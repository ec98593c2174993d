package gpu

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// commands.js decodes the opcodes by the names of the table the Go side
// passes it, and writes no opcode number of its own.
func TestCommandsJSUsesTheGoOpcodeTable(t *testing.T) {
	m := regexp.MustCompile(`const \{([^}]*)\} = op;`).FindStringSubmatch(commandsJS)
	if m == nil {
		t.Fatal("commands.js does not destructure the opcode table (const { ... } = op;)")
	}
	var names []string
	for _, n := range strings.Split(m[1], ",") {
		names = append(names, strings.TrimSpace(n))
	}
	var table []string
	for n := range opcodeTable() {
		table = append(table, n)
	}
	slices.Sort(names)
	slices.Sort(table)
	if !slices.Equal(names, table) {
		t.Fatalf("commands.js uses opcodes %v; the Go table has %v", names, table)
	}
	if lit := regexp.MustCompile(`case \d`).FindString(commandsJS); lit != "" {
		t.Fatalf("commands.js compares against a number (%q): use the table's names", lit)
	}
}

// A list encoded by the Go encoders replays, in Node.js, to the WebGPU calls
// it stands for (a recording stand-in for the device), and profiles to one
// time per dispatch.
func TestCommandsJSReplaysTheGoEncoding(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	var ops []uint32
	ops = opsPipeline(ops, 0)
	ops = opsBindGroup(ops, 1, 512)
	ops = opsDispatch(ops, 3, 2)
	ops = opsCopy(ops, 2, 5<<32|8, 3, 16, 1<<33|4)
	ops = opsDispatch(ops, 7, 1)
	words, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	table, err := json.Marshal(opcodeTable())
	if err != nil {
		t.Fatal(err)
	}
	script := `
const log = [];
const rec = (name) => (...a) => { log.push([name, ...a.map(x => typeof x === 'object' && x !== null && x.id !== undefined ? x.id : x)]); };
const pass = { setPipeline: rec('setPipeline'), dispatchWorkgroups: rec('dispatch'), end: rec('end'),
	setBindGroup: (i, g, offs, start, n) => log.push(['setBindGroup', g.id, Array.from(offs.slice(start, start + n))]) };
const enc = { beginComputePass: () => (log.push(['begin']), pass), copyBufferToBuffer: rec('copy'), finish: () => 'cmd' };
const device = { createCommandEncoder: () => enc };
const queue = { writeBuffer: rec('writeBuffer'), submit: rec('submit'), onSubmittedWorkDone: async () => {} };
const objs = [{ id: 'pipe' }, { id: 'group' }, { id: 'src' }, { id: 'dst' }];
const words = new Uint32Array(` + string(words) + `);
const bytes = new Uint8Array(words.buffer);
const fns = (new Function('return (\n' + require('fs').readFileSync(process.argv[2], 'utf8') + '\n)'))()(` + string(table) + `);
fns.replay(device, queue, objs, bytes, words.length, { id: 'arena' }, new Uint8Array(4), 4);
const replayed = log.splice(0);
fns.profile(device, queue, objs, bytes, words.length, { id: 'arena' }, new Uint8Array(4), 0).then(times => {
	console.log(JSON.stringify({ replayed, times: times.length }));
});
`
	dir := t.TempDir()
	path := filepath.Join(dir, "check.js")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	js, err := filepath.Abs("commands.js")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, path, js).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Replayed [][]any `json:"replayed"`
		Times    int     `json:"times"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := `[["writeBuffer","arena",0,{"0":0,"1":0,"2":0,"3":0},0,4],["begin"],["setPipeline","pipe"],["setBindGroup","group",[512]],["dispatch",3,2],` +
		`["end"],["copy","src",21474836488,"dst",16,8589934596],["begin"],["dispatch",7,1],["end"],["submit",["cmd"]]]`
	if b, _ := json.Marshal(got.Replayed); string(b) != want {
		t.Errorf("replayed\n%s\nwant\n%s", b, want)
	}
	if got.Times != 2 {
		t.Errorf("profile gave %d times for 2 dispatches", got.Times)
	}
}
