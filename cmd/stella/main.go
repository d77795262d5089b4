// Command stella is the StellaOps command-line client: it signs operators
// and CI jobs in to StellaOps Authority and makes authenticated calls to
// StellaOps backends.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/internal/cli"
)

func main() {
	growStack()
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

// startStack is how much stack a command's main goroutine needs: parsing
// the command line (kong's model builder recurses) and the commands that
// print a cached token stay within it.
const startStack = 28 << 10

// growStack grows the main goroutine's stack to hold startStack at once,
// while only three frames are on it. A goroutine starts with 8 KiB, and
// each time it outgrows its stack the runtime copies it, looking up every
// frame's stack map in the binary's pclntab, so the stack grown 8→16→32
// KiB deep inside kong and the token path faults in pages of pclntab all
// over the binary: 9 of them, 64 KiB each with the kernel's fault-around,
// 0.56 MiB of a cached `auth token`'s peak RSS and the copies' time. The
// stack is never shrunk back, as the collector is off (shortLivedGC).
//
//go:noinline
func growStack() {
	var frame [startStack]byte
	touch(frame[:])
}

// touch keeps the frame from being optimised away; it does not escape.
//
//go:noinline
func touch(b []byte) { b[len(b)-1] = 1 }
