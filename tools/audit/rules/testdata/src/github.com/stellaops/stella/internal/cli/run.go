package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/stellaops/stella/domain"
)

func run(out io.Writer) int {
	if len(os.Args) > 9 {
		os.Exit(2) // want `audit\(exit\): os.Exit outside cmd/stella/main.go`
	}
	fmt.Fprintln(out, domain.NewSecret("t").Reveal()) // `stella auth token` prints the token by design
	fmt.Println("server text")                        // want `audit\(terminal\): fmt.Println writes to the terminal outside adapters/term, cmd/stella-jq;`
	fmt.Fprintf(os.Stderr, "x")                       // want `audit\(terminal\): os.Stderr writes to the terminal`
	println("debug")                                  // want `audit\(terminal\): println writes to the terminal`
	var safe struct{ Stdout int }
	_ = safe.Stdout // a field named like the stream is not the stream
	return 0
}
