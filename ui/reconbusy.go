package ui

import "fmt"

// actionCompileProgress (compileProgress) reports the compilation of the
// reconstruction's GPU pipelines to the panels' busy overlay (reconView).
const actionCompileProgress = "webmae.compile-progress"

// compileProgress is Done of Total pipelines compiled; Done == Total
// when finished (or given up).
type compileProgress struct{ Done, Total int }

// busyText is what the panels' busy overlay says: the pipeline
// compilation while it runs, else the first reconstruction being
// prepared (first) or another one being computed.
func busyText(p compileProgress, first bool) string {
	switch {
	case p.Total > 0 && p.Done < p.Total:
		return fmt.Sprintf("Compiling GPU kernels: %d of %d", p.Done, p.Total)
	case first:
		return "Preparing the reconstruction…"
	default:
		return "Reconstructing…"
	}
}
