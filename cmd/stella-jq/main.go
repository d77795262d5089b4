// Command stella-jq is the filter behind `stella api --jq`: stella starts
// it only when --jq is given, so stella itself does not link gojq, whose
// package initialisation would cost every stella start (even `stella
// version`) about a millisecond and 0.8 MiB.
//
//	stella-jq [--pretty] -- EXPR   filter the JSON document on stdin
//	stella-jq --check -- EXPR      only compile EXPR
//
// Results go to stdout, one per line (strings bare, everything else JSON,
// indented with --pretty). A failure prints one line on stderr and exits
// with its jqrun.Status, which stella maps to its own message and exit code.
package main

import (
	"os"

	"github.com/stellaops/stella/internal/jqrun"
)

func main() {
	os.Exit(int(jqrun.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
}
