package testscripts

// The harness: TestMain, which makes the test binary the programs the
// scenarios exec, and TestScripts, which runs testdata/*.txtar with the
// commands of the cmds_*_test.go files.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stellaops/stella/internal/jqrun"
	"github.com/stellaops/stella/tools/devauthority/authority"
)

// TestMain makes the test binary every program the scenarios exec:
// testscript puts a copy of it on PATH under each name in commands, and run
// under one of those names it is that program. As `stella` it is stella
// itself — cli.MainWith in that process, one process per `exec stella`, as
// the binary would be — built with the tests, so `go test -race
// ./testscripts` runs every stella under the race detector too. Run under
// its own name, it runs the tests.
func TestMain(m *testing.M) {
	// STELLA_TEST_RACE used to build a separate -race binary; the stella
	// the scenarios run is now the test binary, so only -race on the test
	// gives that. A run that asked for it must not quietly go without.
	if os.Getenv("STELLA_TEST_RACE") != "" && !raceEnabled {
		fmt.Fprintln(os.Stderr, "STELLA_TEST_RACE is set but the test binary was built without -race: run `go test -race ./testscripts`")
		os.Exit(2)
	}
	programs := make(map[string]func(), len(commands))
	for name, run := range commands {
		programs[name] = func() { os.Exit(run()) }
	}
	testscript.Main(m, programs)
}

// stellaBinary is the path of the `stella` testscript put on PATH, for
// the suites that run stella outside a scenario (the README examples,
// Chromium, interop, the fleet): without a scenario's STELLA_TEST_RECORD it
// runs stella and nothing else.
func stellaBinary(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("stella")
	if err != nil {
		t.Fatalf("the test binary's stella is not on PATH: %v", err)
	}
	return p
}

// commands are the programs scripts can exec besides testscript's own.
var commands = map[string]func() int{"stella": stella, "fakebrowser": fakeBrowser,
	"insession": inSession, "nokeyring": noKeyring, "stella-jq": stellaJQ}

// stellaJQ is the --jq helper, on PATH beside stella as make build and go
// install put it next to stella.
func stellaJQ() int { return int(jqrun.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func TestScripts(t *testing.T) {
	testscript.Run(t, params("testdata"))
}

func params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "keyring": // the kernel lets processes keep keys (the key cache)
				return kernelKeyrings(), nil
			case "root": // another uid can be tried (setpriv --reuid)
				return os.Geteuid() == 0, nil
			case "redis":
				return redisInstalled()
			case "keychain":
				return keychainUsable()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// The keychain scenarios talk to the test process's Secret
			// Service (scripts/with-keyring.sh starts a private one).
			for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
				if val, ok := os.LookupEnv(v); ok {
					env.Setenv(v, val)
				}
			}
			// Every cache and config under $WORK: scripts never touch the
			// user's real files or each other's.
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("STELLA_CONFIG_DIR", filepath.Join(env.WorkDir, "cfg"))
			env.Setenv("STELLA_TEST_CLOCK", filepath.Join(env.WorkDir, ".stella-clock"))
			env.Setenv("STELLA_TEST_RECORD", filepath.Join(env.WorkDir, ".stella-record.jsonl"))
			env.Setenv("STELLA_TEST_KEYS_RECORD", filepath.Join(env.WorkDir, ".stella-keys"))
			env.Setenv("NO_COLOR", "1")
			st := &scriptState{t: env.T(), workDir: env.WorkDir}
			env.Values[stateKey{}] = st
			env.Defer(func() { leakCheck(st) })
			env.Defer(func() { jsonCheck(st) })
			setupKeyring(env)
			return os.MkdirAll(filepath.Join(env.WorkDir, "home"), 0o700)
		},
		Cmds: withFleetCmds(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"authority":          cmdAuthority,
			"exits":              cmdExits,
			"stats":              cmdStats,
			"admin":              cmdAdmin,
			"closedport":         cmdClosedPort,
			"perm":               cmdPerm,
			"cp-session":         cmdCopySession,
			"bearer":             cmdBearer,
			"with-headers":       cmdWithHeaders,
			"device":             cmdDevice,
			"lastexit":           cmdLastExit,
			"mix-headers":        cmdMixHeaders,
			"gencert":            cmdGenCert,
			"waitfor":            cmdWaitFor,
			"same-session":       cmdSameSession,
			"flip-session":       cmdFlipSession,
			"hungbus":            cmdHungBus,
			"keychain-item":      cmdKeychainItem,
			"sessions":           cmdSessions,
			"proxy":              cmdProxy,
			"proxy-saw":          cmdProxySaw,
			"waitfor-stat":       cmdWaitForStat,
			"authority-stop":     cmdAuthorityStop,
			"put-session":        cmdPutSession,
			"corrupt-files":      cmdCorruptFiles,
			"hungbus-calls":      cmdHungBusCalls,
			"sleepysecrets":      cmdSleepySecrets,
			"busmon":             cmdBusMon,
			"keycount":           cmdKeyCount,
			"keyid":              cmdKeyID,
			"corrupt-cached-key": cmdCorruptCachedKey,
			"tmpfs":              cmdTmpfs,
			"jsondoc":            cmdJSONDoc,
			"advance":            cmdAdvance,
			"waitfor-open":       cmdWaitForOpen,
			"waitfor-match":      cmdWaitForMatch,
			"waitfor-keycount":   cmdWaitForKeyCount,
			"standalone":         cmdStandalone,
		}),
	}
}

// scriptState remembers, per script, the Authorities it started and where
// its files are, for the leak check that runs when the script ends.
type scriptState struct {
	t       testscript.T
	workDir string

	mu      sync.Mutex
	ts      *testscript.TestScript
	servers []*authority.Server
	redis   *redisState // the fleet scenarios' redis-servers (fleet_test.go)
}

type stateKey struct{}

func stateOf(ts *testscript.TestScript) *scriptState {
	st := ts.Value(stateKey{}).(*scriptState)
	st.mu.Lock()
	st.ts = ts
	st.mu.Unlock()
	return st
}
