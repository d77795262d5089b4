package domain

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func FuzzParseOAuthError(f *testing.F) {
	for _, s := range []string{`{"error":"invalid_grant","error_description":"x"}`, `{"error":1}`, `[]`, `{"error":"a\"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := ParseOAuthError(b)
		if !ok {
			return
		}
		if !validErrorCode(e.Code) {
			t.Fatalf("invalid code %q accepted", e.Code)
		}
		// The server's words are kept as they came and print sanitised.
		if d := e.Description.String(); !printable(d) || !printable(e.String()) || len(d) > DefaultLimit+len("…") {
			t.Fatalf("description not sanitized: %q", d)
		}
	})
}

func FuzzParseProblem(f *testing.F) {
	for _, s := range []string{`{"title":"t","status":403,"detail":"d","requiredScope":"s"}`, `{"status":1e400}`, `{"status":-1}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := ParseProblem(b)
		if ok && p.Status != 0 && (p.Status < 100 || p.Status > 599) {
			t.Fatalf("status %d", p.Status)
		}
		if shown := fmt.Sprintf("%s %v %s", p.Title, p.Detail, p.Summary()); !printable(shown) {
			t.Fatalf("unsanitized %q", shown)
		}
	})
}

func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{`Bearer realm="x", error="invalid_token"`, `DPoP algs="ES256", error="use_dpop_nonce"`, `Negotiate abc==`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`, `,,, ,`, `a b c`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range ParseWWWAuthenticate([]string{s}) {
			if c.Scheme == "" || strings.IndexFunc(c.Scheme, func(r rune) bool { return r > 0x7e || !isTChar(byte(r)) }) >= 0 {
				t.Fatalf("bad scheme %q", c.Scheme)
			}
			for k := range c.Params {
				if k != strings.ToLower(k) || k == "" {
					t.Fatalf("param name %q", k)
				}
			}
		}
	})
}

func FuzzPeekJWTClaims(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := PeekJWTClaims(s)
		if ok && c == nil {
			t.Fatal("ok without claims")
		}
		_ = ClaimTime(c, "exp")
		_ = ClaimAudience(c)
	})
}

func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"packs.read packs.run", " a  a b\t", "é", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScopes(s)
		if err != nil {
			return
		}
		if !slices.IsSorted(sc) || len(slices.Compact(slices.Clone(sc))) != len(sc) {
			t.Fatalf("not sorted/unique: %q", sc)
		}
		again, err := ParseScopes(sc.String())
		if err != nil || again.String() != sc.String() {
			t.Fatalf("round trip %q → %q", sc, again)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	f.Add([]byte(`{"v":1,"profile":"p","issuer":"i","clientId":"c","accessToken":"a","tokenType":"bearer"}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSession(b)
		if err != nil {
			if KindOf(err) != KindStorage {
				t.Fatalf("kind %v", KindOf(err))
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded an invalid session: %v", err)
		}
		enc, err := EncodeSession(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeSession(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzPrintable(f *testing.F) {
	f.Add("hello\x1b[31mworld\n", 10)
	f.Add("ééééé", 3)
	f.Add("\x1b]52;c;ZWNobyBwd25lZA==\x07 \u009b2J \u202egnp.exe\u202c \u2066x\u2069 \u200b\ufeff\xff", 300)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 10000 {
			return
		}
		out := Printable(s, limit)
		if !printable(out) || !Safe(out) || len(out) > limit+len("…") {
			t.Fatalf("%q (limit %d) → %q", s, limit, out)
		}
		if u := fmt.Sprintf("%s %v %q", Untrusted(s), Untrusted(s), Untrusted(s)); !printable(u) {
			t.Fatalf("Untrusted %q printed %q", s, u)
		}
	})
}

// FuzzShellQuote: a POSIX shell given the quoted value gets the value back,
// byte for byte, and runs nothing (the canary file is never made).
func FuzzShellQuote(f *testing.F) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no POSIX sh")
	}
	for _, s := range []string{"packs.read", "$(touch${IFS}/tmp/x)", "a'b", "`id`", "x;y", "!!", "*", "~", "-n", "", "\\", "\"'\"'"} {
		f.Add(s)
	}
	dir := f.TempDir()
	canary := filepath.Join(dir, "ran")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // no argv can hold NUL
		}
		q := ShellQuote(s)
		if strings.ContainsAny(q, "\n\r") != strings.ContainsAny(s, "\n\r") {
			t.Fatalf("quoting added a line break: %q", q)
		}
		cmd := exec.Command(sh, "-c", "printf %s "+q)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "CANARY=" + canary, "IFS= \t\n"}
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil || string(out) != s {
			t.Fatalf("sh -c 'printf %%s %s' → %q, %v; want %q", q, out, err, s)
		}
		if _, err := os.Stat(canary); err == nil {
			t.Fatalf("quoting %q ran a command", s)
		}
	})
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
	}) < 0
}
