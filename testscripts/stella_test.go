package testscripts

// The stand-in the scenarios exec as `stella`.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/internal/cli"
)

// stella is stella itself, run in this process with the scenario's clock
// (clock_test.go). In a scenario (STELLA_TEST_RECORD set) it also keeps a
// copy of everything stella printed, for the secret-leak check: every call
// runs with -v -v so the check sees the most verbose logs stella can
// write, and unless the script itself asked for -v the debug lines are
// kept out of what the script sees, so its assertions are about the
// default output. Outside a scenario (the README examples, Chromium,
// interop, the fleet's runners) it is stella and nothing else.
func stella() int {
	ctx := context.Background()
	record := os.Getenv("STELLA_TEST_RECORD")
	if record == "" {
		return cli.MainWith(ctx, os.Args[1:], term.OSStdio(), scenarioOptions())
	}
	// In the scenario's own session keyring (keyring_linux_test.go); this
	// may start the program again in place, as the same process.
	if err := enterScenarioKeyring(); err != nil {
		fmt.Fprintln(os.Stderr, "stella test stand-in:", err)
		return 1
	}
	args := os.Args[1:]
	asked := slices.ContainsFunc(args, func(a string) bool { return a == "-v" || a == "-vv" || a == "--verbose" })
	run := args
	if !asked {
		run = append([]string{"-v", "-v"}, args...)
	}
	// Opaque writers, as the pipes to the real binary were: stella sees no
	// terminal on stdout or stderr, whatever the script's are. Locked
	// (interop_test.go), because stella may write from more than one
	// goroutine.
	var out, errb lockedBuffer
	stdout := io.MultiWriter(os.Stdout, &out)
	// STELLA_TEST_TEE: a file that gets stdout as it is written, for a
	// script to wait on what a stella in the background has printed.
	if p := os.Getenv("STELLA_TEST_TEE"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stella test stand-in:", err)
			return 1
		}
		defer f.Close()
		stdout = io.MultiWriter(stdout, f)
	}
	// STELLA_TEST_PIDFILE: where a script finds this stella to send it a
	// signal testscript's kill does not know (SIGTERM).
	if p := os.Getenv("STELLA_TEST_PIDFILE"); p != "" {
		_ = os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	stdio := term.IO{In: os.Stdin, Out: stdout, Err: &errb, Env: os.LookupEnv}
	code := cli.MainWith(ctx, run, stdio, scenarioOptions())
	recordCachedKeys()
	if asked {
		_, _ = io.WriteString(os.Stderr, errb.String())
	} else {
		_, _ = io.WriteString(os.Stderr, quiet(errb.String()))
	}
	entry, _ := json.Marshal(recorded{Args: run, Stdout: out.String(), Stderr: errb.String(), Code: code})
	if f, err := os.OpenFile(record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		_, _ = f.Write(append(entry, '\n'))
		_ = f.Close()
	}
	return code
}

// verboseLine is a log line as -v writes it: a timestamp, then the level.
var verboseLine = regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} (debug|warning|error): `)

// quiet turns -v -v stderr back into what stella prints without -v: debug
// lines dropped, the timestamp taken off warnings.
func quiet(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		m := verboseLine.FindStringSubmatch(line)
		switch {
		case m == nil:
			b.WriteString(line)
		case m[1] != "debug":
			b.WriteString(line[len("15:04:05.000 "):])
		}
	}
	return b.String()
}

type recorded struct {
	Args   []string `json:"args"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr"`
	Code   int      `json:"code"`
}
