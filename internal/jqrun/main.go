package jqrun

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
)

// maxDoc bounds the document read from stdin: the size stella's api use
// case accepts for an answer (app.maxSuccessBody).
const maxDoc = 256 << 20

// Main is stella-jq: the arguments after the program name, the document on
// stdin, results on stdout, one line on stderr for a failure, and the
// status to exit with. The testscripts run it in-process under the same
// name.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) Status {
	fs := flag.NewFlagSet("stella-jq", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "only compile EXPR")
	pretty := fs.Bool("pretty", false, "indent JSON results")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: stella-jq [--check] [--pretty] -- EXPR < document.json")
		return StatusFailed
	}
	filter, err := Compile(fs.Arg(0))
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
func report(err error, stderr io.Writer) Status {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, err.Error())
	var f *Fault
	if errors.As(err, &f) {
		return f.Status
	}
	return StatusFailed
}
