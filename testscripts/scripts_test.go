package testscripts

// The harness: TestMain, which makes the test binary the programs the
// scenarios exec, and TestScripts, which runs testdata/*.txtar with the
// commands of the cmds_*_test.go files.

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

// TestMain builds the real binary once, then lets testscript run the test
// binary itself as `stella`: that stand-in execs the real binary and keeps
// a copy of everything it printed, for the secret-leak check.
func TestMain(m *testing.M) {
	if commands[filepath.Base(os.Args[0])] != nil {
		//lint:ignore SA1019 RunMain returns the code, so a stand-in exits with its program's.
		os.Exit(testscript.RunMain(m, commands))
	}
	// testscript's Main always ends with os.Exit, so nothing here runs
	// after the scripts: the binary lives at one fixed place per user and
	// is replaced (atomically) by each run instead of piling up.
	// One place per user and checkout: two checkouts tested at once (git
	// worktrees, two CI jobs) must not replace each other's binary mid-run.
	wd, _ := os.Getwd()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("stella-testscripts-%d-%x", os.Getuid(), sha256.Sum256([]byte(wd))))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	name := "stella-real"
	args := []string{"build"}
	if os.Getenv("STELLA_TEST_RACE") != "" {
		args, name = append(args, "-race"), "stella-real-race"
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s-%d", name, os.Getpid()))
	build := exec.Command("go", append(args, "-o", tmp, "github.com/stellaops/stella/cmd/stella")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building stella:", err)
		os.Exit(1)
	}
	realBinary = filepath.Join(dir, name)
	if err := os.Rename(tmp, realBinary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	//lint:ignore SA1019 RunMain's code is the test binary's exit code.
	os.Exit(testscript.RunMain(m, commands))
}

var realBinary string

// commands are the programs scripts can exec besides testscript's own.
var commands = map[string]func() int{"stella": recordingStella, "fakebrowser": fakeBrowser,
	"insession": inSession, "nokeyring": noKeyring}

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
			env.Setenv("STELLA_TEST_REAL_BINARY", realBinary)
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
			"busmon":             cmdBusMon,
			"keycount":           cmdKeyCount,
			"keyid":              cmdKeyID,
			"corrupt-cached-key": cmdCorruptCachedKey,
			"tmpfs":              cmdTmpfs,
			"jsondoc":            cmdJSONDoc,
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
