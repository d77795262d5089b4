package testscripts

// Script commands about the stella processes a scenario runs: exit codes
// and waiting for them.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// exits N command [args] runs a program and checks its exact exit code,
// keeping stdout and stderr for the assertions that follow.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// lastexit CODE checks the exit code of the last stella call, for calls
// run in the background (`exec stella ... &`).
func cmdLastExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lastexit CODE")
	}
	b, err := os.ReadFile(ts.MkAbs(".stella-record.jsonl"))
	ts.Check(err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var r recorded
	ts.Check(json.Unmarshal([]byte(lines[len(lines)-1]), &r))
	if strconv.Itoa(r.Code) != args[0] {
		ts.Fatalf("last stella exited %d, want %s", r.Code, args[0])
	}
}

// waitfor PATH waits (bounded) until a file exists, e.g. a lock a
// background stella has taken.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfor GLOB")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, _ := filepath.Glob(ts.MkAbs(args[0])); len(m) > 0 {
			return
		}
	}
	ts.Fatalf("waitfor: %s never appeared", args[0])
}

// waitfor-open PIDFILE GLOB waits (bounded) until the process whose pid
// PIDFILE holds (STELLA_TEST_PIDFILE) has a file matching GLOB open: a
// stella waiting for a lock another one holds has its lock file open, and
// keeps trying. It reads /proc, so it needs Linux.
func cmdWaitForOpen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor-open PIDFILE GLOB")
	}
	pattern := ts.MkAbs(args[1])
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		pid, err := os.ReadFile(ts.MkAbs(args[0]))
		if err != nil || len(pid) == 0 {
			continue
		}
		fds := filepath.Join("/proc", strings.TrimSpace(string(pid)), "fd")
		entries, _ := os.ReadDir(fds)
		for _, e := range entries {
			if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil {
				if ok, _ := filepath.Match(pattern, target); ok {
					return
				}
			}
		}
	}
	ts.Fatalf("waitfor-open: the process of %s never had %s open (this needs Linux's /proc)", args[0], args[1])
}

// waitfor-match FILE REGEXP waits (bounded) until FILE has a line matching
// REGEXP, e.g. what a stella in the background has printed so far
// (STELLA_TEST_TEE).
func cmdWaitForMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor-match FILE REGEXP")
	}
	re, err := regexp.Compile(`(?m)` + args[1])
	ts.Check(err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && re.Match(b) {
			return
		}
	}
	ts.Fatalf("waitfor-match: %s never had a line matching %s", args[0], args[1])
}
