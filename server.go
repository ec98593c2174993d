// Command webmae serves the browser demo and runs the engine from the
// command line: serve, forward, train, reconstruct, bench.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one webmae subcommand; each lives in its own cmd_*.go file.
type command struct {
	summary string
	run     func(args []string) error
}

// commands is filled by the init functions of the cmd_*.go files.
var commands = map[string]command{}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "webmae: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "webmae %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: webmae <command> [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'webmae <command> -h' for a command's flags.\n")
	fmt.Fprint(os.Stderr, b.String())
}
