package testscripts

// The stand-in the scenarios exec as `stella`.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// recordingStella runs the real binary with the same arguments, stdin and
// environment, and exits with its code. Every call runs with -v -v so the
// leak check sees the most verbose logs stella can write; unless the script
// itself asked for -v, the debug lines are kept out of what the script sees,
// so its assertions are about the default output.
func recordingStella() int {
	bin, record := os.Getenv("STELLA_TEST_REAL_BINARY"), os.Getenv("STELLA_TEST_RECORD")
	args := os.Args[1:]
	asked := slices.ContainsFunc(args, func(a string) bool { return a == "-v" || a == "-vv" || a == "--verbose" })
	run := args
	if !asked {
		run = append([]string{"-v", "-v"}, args...)
	}
	cmd := exec.Command(bin, run...)
	var out, errb bytes.Buffer
	cmd.Stdin = os.Stdin
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = &errb
	// In the scenario's own session keyring (keyring_linux_test.go).
	joinScenarioKeyring()
	// Pass Ctrl-C and termination on to stella, as a shell would.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "stella test wrapper:", err)
		return 1
	}
	// STELLA_TEST_PIDFILE: where a script finds this stella to send it a
	// signal testscript's kill does not know (SIGTERM).
	if p := os.Getenv("STELLA_TEST_PIDFILE"); p != "" {
		_ = os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	go func() {
		for sig := range sigs {
			_ = cmd.Process.Signal(sig)
		}
	}()
	err := cmd.Wait()
	recordCachedKeys()
	if asked {
		_, _ = os.Stderr.Write(errb.Bytes())
	} else {
		_, _ = io.WriteString(os.Stderr, quiet(errb.String()))
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "stella test wrapper:", err)
		return 1
	}
	if record != "" {
		entry, _ := json.Marshal(recorded{Args: run, Stdout: out.String(), Stderr: errb.String(), Code: code})
		if f, err := os.OpenFile(record, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			_, _ = f.Write(append(entry, '\n'))
			_ = f.Close()
		}
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
