package testscripts

// Script commands about the stella processes a scenario runs: exit codes
// and waiting for them.

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
