// Command stella is the StellaOps command-line client: it signs operators
// and CI jobs in to StellaOps Authority and makes authenticated calls to
// StellaOps backends.
package main

import (
	"context"
	"os"

	"github.com/stellaops/stella/adapters/term"
)

func main() { os.Exit(Main(context.Background(), os.Args[1:], term.OSStdio())) }
