package main

import (
	"fmt"
	"os"

	"github.com/stellaops/stella/internal/jqrun"
)

// The helper's main may exit with its status and write its pipes.
func main() {
	if err := jqrun.Compile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stdout, "ok")
}
