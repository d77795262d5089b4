package testscripts

// The scenarios' clock. A scenario's stella processes and its development
// Authorities read the system clock plus one offset, which the script moves
// forward with `advance`: a 2 s token is crossed in no time, and both sides
// agree it has expired. Waits (polling intervals, latency faults, the
// kernel's key timeouts) still take real time.

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stellaops/stella/internal/cli"
)

// offsetClock is the system clock plus the offset in file (STELLA_TEST_CLOCK,
// $WORK/.stella-clock). It reads the file at every reading of the clock, so
// a stella still running when the script advances moves with it.
type offsetClock struct{ file string }

func (c offsetClock) Now() time.Time { return time.Now().Add(c.offset()) }

// offset is what the script has advanced so far: none before the first
// `advance` (no file yet).
func (c offsetClock) offset() time.Duration {
	b, err := os.ReadFile(c.file)
	if err != nil {
		return 0
	}
	d, _ := time.ParseDuration(strings.TrimSpace(string(b)))
	return d
}

// scenarioOptions gives stella the scenario's clock; outside a scenario,
// the system's.
func scenarioOptions() cli.Options {
	if f := os.Getenv("STELLA_TEST_CLOCK"); f != "" {
		return cli.Options{Clock: offsetClock{file: f}}
	}
	return cli.Options{}
}

// advance DURATION moves the scenario's clock forward, for its stella
// processes and its Authorities alike, e.g. `advance 3s` past a 2 s
// token's lifetime.
func cmdAdvance(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: advance DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	if d <= 0 {
		ts.Fatalf("advance: the clock only moves forward, not %s", d)
	}
	c := offsetClock{file: ts.Getenv("STELLA_TEST_CLOCK")}
	// Whole: a reader sees the old offset or the new one, never a part.
	tmp := filepath.Join(filepath.Dir(c.file), ".stella-clock.tmp")
	ts.Check(os.WriteFile(tmp, []byte((c.offset()+d).String()+"\n"), 0o600))
	ts.Check(os.Rename(tmp, c.file))
}
