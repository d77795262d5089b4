package testscripts

// The secret-leak check run when each scenario ends.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stellaops/stella/tools/devauthority/authority"
)

// leakCheck fails the script if any secret the Authority issued or received
// appears — plain, base64 or URL-encoded — in anything stella printed or in
// any file under the token cache, except the token printed on purpose by
// `auth token` / `auth header` on stdout.
func leakCheck(st *scriptState) {
	st.mu.Lock()
	secrets := authority.StaticSecrets()
	for _, s := range st.servers {
		secrets = append(secrets, s.Secrets()...)
	}
	if st.ts != nil {
		if p := st.ts.Getenv("STELLA_CACHE_PASSPHRASE"); p != "" {
			secrets = append(secrets, p)
		}
	}
	// The keys the kernel key cache held (keyring_linux_test.go).
	secrets = append(secrets, cachedKeySecrets(st.workDir)...)
	st.mu.Unlock()
	var haystacks []struct{ where, text string }
	add := func(where, text string) { haystacks = append(haystacks, struct{ where, text string }{where, text}) }

	if b, err := os.ReadFile(filepath.Join(st.workDir, ".stella-record.jsonl")); err == nil {
		for i, line := range bytes.Split(b, []byte("\n")) {
			var r recorded
			if json.Unmarshal(line, &r) != nil {
				continue
			}
			cmd := strings.Join(r.Args, " ")
			if !printsTokenOnPurpose(r.Args) {
				add(fmt.Sprintf("stdout of call %d (stella %s)", i+1, cmd), r.Stdout)
			}
			add(fmt.Sprintf("stderr of call %d (stella %s)", i+1, cmd), r.Stderr)
		}
	}
	cache := filepath.Join(st.workDir, "cfg", "tokens")
	_ = filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil {
				add(p, string(b))
			}
		}
		return nil
	})
	var found []string
	for _, s := range secrets {
		// The development user's password is its user name, which stella
		// rightly prints; and very short values cannot be told from words.
		if len(s) < 8 || s == "operator" {
			continue
		}
		for _, form := range encodings(s) {
			for _, h := range haystacks {
				if strings.Contains(h.text, form) {
					found = append(found, fmt.Sprintf("a secret (%d chars, starting %.4q) appears in %s", len(s), s, h.where))
				}
			}
		}
	}
	sort.Strings(found)
	if len(found) > 0 {
		st.t.Log("FAIL: secret leak:\n" + strings.Join(found, "\n"))
		st.t.FailNow()
	}
}

func encodings(s string) []string {
	return []string{
		s,
		base64.StdEncoding.EncodeToString([]byte(s)),
		base64.RawURLEncoding.EncodeToString([]byte(s)),
		url.QueryEscape(s),
	}
}

func printsTokenOnPurpose(args []string) bool {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	j := strings.Join(words, " ")
	return strings.Contains(j, "auth token") || strings.Contains(j, "auth header")
}
