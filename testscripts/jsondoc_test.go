package testscripts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stellaops/stella/docs/schema"
)

// documentOf names the docs/schema document a stella command line prints
// under --json, "" for output that is not stella's own document (help,
// `stella api`'s backend body, a completion script).
func documentOf(args []string) string {
	if !slices.Contains(args, "--json") || slices.Contains(args, "--help") || slices.Contains(args, "-h") || slices.Contains(args, "--version") {
		return ""
	}
	valued := map[string]bool{"--profile": true, "--authority": true, "--client-id": true, "--scope": true, "--backend": true,
		"--auth-mode": true, "--token-storage": true, "--token-cache-dir": true, "--config-dir": true, "--timeout": true, "--add-scope": true}
	var words []string
	for i := 0; i < len(args) && len(words) < 2; i++ {
		a := args[i]
		switch {
		case valued[a]:
			i++
		case strings.HasPrefix(a, "-"):
		default:
			words = append(words, a)
		}
	}
	switch strings.Join(words, " ") {
	case "auth status":
		return "status"
	case "auth login":
		return "login"
	case "auth logout":
		return "logout"
	case "auth whoami":
		return "whoami"
	case "auth token":
		return "token"
	case "auth header":
		return "header"
	case "auth doctor":
		return "doctor"
	case "profile list":
		return "profile-list"
	case "profile use":
		return "profile-use"
	case "profile show":
		return "profile-show"
	case "pack approve":
		return "pack-approve"
	}
	if len(words) == 0 || words[0] == "api" || words[0] == "completion" || words[0] == "help" {
		return "" // help (bare stella, bare groups), a backend body, a script
	}
	if len(words) > 0 && words[0] == "version" {
		return "version"
	}
	return "error" // no command, or a usage error: the error document alone
}

// jsonCheck fails the script when any stella call under --json printed
// anything but exactly one document matching its schema (SPEC §3): every
// scenario that uses --json checks the contract, whatever it asserts.
func jsonCheck(st *scriptState) {
	b, err := os.ReadFile(filepath.Join(st.workDir, ".stella-record.jsonl"))
	if err != nil {
		return
	}
	var bad []string
	for i, line := range bytes.Split(b, []byte("\n")) {
		var r recorded
		if json.Unmarshal(line, &r) != nil {
			continue
		}
		name := documentOf(r.Args)
		if name == "" || r.Code == 130 {
			continue
		}
		if err := schema.Check(name, []byte(r.Stdout)); err != nil {
			bad = append(bad, fmt.Sprintf("call %d (stella %s, exit %d): %v\nstdout:\n%s", i+1, strings.Join(r.Args, " "), r.Code, err, r.Stdout))
		}
	}
	if len(bad) > 0 {
		st.t.Log("FAIL: --json contract:\n" + strings.Join(bad, "\n"))
		st.t.FailNow()
	}
}

// jsondoc NAME checks that the last command's stdout is exactly one JSON
// document matching docs/schema/NAME.json.
func cmdJSONDoc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsondoc NAME")
	}
	err := schema.Check(args[0], []byte(ts.ReadFile("stdout")))
	if (err == nil) == neg {
		ts.Fatalf("jsondoc %s: %v", args[0], err)
	}
}
