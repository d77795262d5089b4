// Command stella is the StellaOps command-line client: it signs operators
// and CI jobs in to StellaOps Authority and makes authenticated calls to
// StellaOps backends.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/stellaops/stella/adapters/term"
	_ "github.com/stellaops/stella/cmd/stella/internal/stack" // grows the main goroutine's stack before any package is initialised
	"github.com/stellaops/stella/internal/cli"
)

func main() {
	shortLivedGC()
	os.Exit(cli.Main(context.Background(), os.Args[1:], term.OSStdio()))
}

// shortLivedHeap is how much a stella process may allocate before its
// first collection.
const shortLivedHeap = 128 << 20

// shortLivedGC defers garbage collection until the process has allocated
// shortLivedHeap. Nearly every command lives a few milliseconds and
// allocates a few MiB, but the file store's scrypt derivation allocates
// 32 MiB at once, which starts a collection whose marking then falls on
// the derivation and on the command's start-up running beside it: about
// 1.5 ms of `stella auth token` (make bench), for memory the process gives
// back a moment later by exiting. Past the limit the collector runs as
// usual; a command that lives long restores the default (cli.longLivedGC). GOGC or GOMEMLIMIT
// in the environment are left to rule.
func shortLivedGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(shortLivedHeap)
}
