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
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/stellaops/stella/internal/jqrun"
)

// maxDoc bounds the document read from stdin: the size stella's api use
// case accepts for an answer (app.maxSuccessBody).
const maxDoc = 256 << 20

func main() {
	os.Exit(int(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) jqrun.Status {
	fs := flag.NewFlagSet("stella-jq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "only compile EXPR")
	pretty := fs.Bool("pretty", false, "indent JSON results")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: stella-jq [--check] [--pretty] -- EXPR < document.json")
		return jqrun.StatusFailed
	}
	filter, err := jqrun.Compile(fs.Arg(0))
	if err != nil || *check {
		return report(err, stderr)
	}
	doc, err := io.ReadAll(io.LimitReader(stdin, maxDoc+1))
	if err != nil {
		return report(err, stderr)
	}
	if len(doc) > maxDoc {
		return report(errors.New("the document is larger than 256 MiB"), stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(stdout)
	err = filter.Run(ctx, doc, out, *pretty)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = ferr
	}
	return report(err, stderr)
}

// report prints err's one line and returns the status to exit with.
func report(err error, stderr io.Writer) jqrun.Status {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, err.Error())
	var f *jqrun.Fault
	if errors.As(err, &f) {
		return f.Status
	}
	return jqrun.StatusFailed
}
