package testscripts

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// standalone VAR sets VAR to the path of stella built on its own (`go
// build ./cmd/stella`, once per test run), for the few checks that are
// about the process rather than the code: the `stella` the scenarios exec
// is the test binary, which lacks cmd/stella's main (it sets the garbage
// collector) and whose own packages (the schema checker, the harness)
// allocate about 2 MiB more at start-up than stella does. It is not
// recorded for the leak check, and is in the scenario's session keyring
// only as any program the script starts is (setupKeyring).
func cmdStandalone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: standalone VAR")
	}
	bin, err := buildStandalone()
	ts.Check(err)
	ts.Setenv(args[0], bin)
}

// buildStandalone builds stella once per test process, at one place per
// user and checkout (two checkouts tested at once must not replace each
// other's binary mid-run), replaced atomically by each run.
var buildStandalone = sync.OnceValues(func() (string, error) {
	wd, _ := os.Getwd()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("stella-testscripts-%d-%x", os.Getuid(), sha256.Sum256([]byte(wd))))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stella")
	tmp := filepath.Join(dir, fmt.Sprintf(".stella-%d", os.Getpid()))
	out, err := exec.Command("go", "build", "-o", tmp, "github.com/stellaops/stella/cmd/stella").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building stella: %v\n%s", err, out)
	}
	return bin, os.Rename(tmp, bin)
})
