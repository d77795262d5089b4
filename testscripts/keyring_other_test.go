//go:build !linux

package testscripts

import (
	"fmt"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// Only Linux has the kernel keyring the key cache uses: elsewhere the
// scenarios that need it skip ([keyring] is false).

func kernelKeyrings() bool         { return false }
func enterScenarioKeyring() error  { return nil }
func setupKeyring(*testscript.Env) {}

func inSession() int { fmt.Fprintln(os.Stderr, "insession: Linux only"); return 1 }
func noKeyring() int { fmt.Fprintln(os.Stderr, "nokeyring: Linux only"); return 1 }

func cmdKeyCount(ts *testscript.TestScript, _ bool, _ []string) { ts.Fatalf("keycount: Linux only") }
func cmdKeyID(ts *testscript.TestScript, _ bool, _ []string)    { ts.Fatalf("keyid: Linux only") }

func cmdWaitForKeyCount(ts *testscript.TestScript, _ bool, _ []string) {
	ts.Fatalf("waitfor-keycount: Linux only")
}

func cmdCorruptCachedKey(ts *testscript.TestScript, _ bool, _ []string) {
	ts.Fatalf("corrupt-cached-key: Linux only")
}

func recordCachedKeys()                {}
func cachedKeySecrets(string) []string { return nil }
