package domain

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
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
		if !printable(e.Description) || len(e.Description) > maxErrorText+len("…") {
			t.Fatalf("description not sanitized: %q", e.Description)
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
		if !printable(p.Title) || !printable(p.Detail) {
			t.Fatalf("unsanitized %q %q", p.Title, p.Detail)
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
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 10000 {
			return
		}
		out := Printable(s, limit)
		if !printable(out) || len(out) > limit+len("…") {
			t.Fatalf("%q (limit %d) → %q", s, limit, out)
		}
	})
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) < 0
}
