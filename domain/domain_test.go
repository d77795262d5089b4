package domain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2-token")
	type wrapper struct {
		S Secret
		P *Secret
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "secret", s, "group", slog.GroupValue(slog.Any("inner", s)))
	slog.New(slog.NewTextHandler(&buf, nil)).Info("y", "secret", s)
	j, _ := json.Marshal(map[string]any{"a": s, "w": wrapper{s, &s}})
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s),
		fmt.Sprintf("%+v", wrapper{s, &s}), string(j), buf.String(), fmt.Errorf("wrapped: %v", s).Error()}
	for _, o := range outs {
		if strings.Contains(o, "hunter2") {
			t.Fatalf("secret printed: %s", o)
		}
		if !strings.Contains(o, "[redacted]") {
			t.Fatalf("no redaction marker: %s", o)
		}
	}
	if s.Reveal() != "hunter2-token" || !s.Equal(NewSecret("hunter2-token")) || s.IsZero() || !(Secret{}).IsZero() {
		t.Fatal("Reveal/Equal/IsZero")
	}
}

func TestExitCodeTable(t *testing.T) {
	want := map[Kind]int{KindUnexpected: 1, KindUsage: 2, KindUnauthorized: 10, KindForbidden: 11, KindLoginRequired: 12,
		KindUnreachable: 13, KindServer: 14, KindProtocol: 15, KindTimeout: 16, KindAccessDenied: 17, KindStorage: 18,
		KindConflict: 19, KindInterrupted: 130}
	for k, code := range want {
		if k.ExitCode() != code || k.DefaultHint() == "" {
			t.Errorf("%v: code %d hint %q", k, k.ExitCode(), k.DefaultHint())
		}
	}
	if Kind(99).ExitCode() != 1 {
		t.Error("unknown kinds are bugs")
	}
}

func TestKindOf(t *testing.T) {
	inner := E(KindLoginRequired, "inner", "inner hint")
	cases := []struct {
		name string
		err  error
		kind Kind
		code int
		hint string
	}{
		{"nil", nil, KindUnexpected, 0, ""},
		{"plain", errors.New("x"), KindUnexpected, 1, kindTable[KindUnexpected].hint},
		{"sentinel wrapped", fmt.Errorf("refresh: %w", ErrLoginRequired), KindLoginRequired, 12, "Sign in with `stella auth login`."},
		{"outer kind wins", Wrap(KindUnauthorized, inner, "outer", ""), KindUnauthorized, 10, "inner hint"},
		{"outer hint wins", Wrap(KindUnauthorized, inner, "outer", "outer hint"), KindUnauthorized, 10, "outer hint"},
		{"fmt around Error", fmt.Errorf("ctx: %w", inner), KindLoginRequired, 12, "inner hint"},
		{"joined", errors.Join(errors.New("a"), E(KindConflict, "c", "ch")), KindConflict, 19, "ch"},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), KindInterrupted, 130, kindTable[KindInterrupted].hint},
		{"deadline", context.DeadlineExceeded, KindUnreachable, 13, kindTable[KindUnreachable].hint},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				if ExitCodeFor(nil) != 0 {
					t.Fatal("nil must exit 0")
				}
				return
			}
			if KindOf(tc.err) != tc.kind || ExitCodeFor(tc.err) != tc.code || HintFor(tc.err) != tc.hint {
				t.Fatalf("kind %v code %d hint %q", KindOf(tc.err), ExitCodeFor(tc.err), HintFor(tc.err))
			}
		})
	}
	if !errors.Is(inner, ErrLoginRequired) || errors.Is(inner, ErrForbidden) {
		t.Fatal("errors.Is with sentinels")
	}
	if Wrap(KindServer, errors.New("cause"), "what", "").Error() != "what: cause" {
		t.Fatal("message composition")
	}
}

func TestRefreshPolicy(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := func(life time.Duration) Token {
		return Token{Value: NewSecret("x"), IssuedAt: t0, Expiry: t0.Add(life)}
	}
	cases := []struct {
		name   string
		tok    Token
		at     time.Time
		minTTL time.Duration
		lead   time.Duration
		due    bool
	}{
		{"1m token: 30s floor, not yet", tok(time.Minute), t0.Add(29 * time.Second), 0, 30 * time.Second, false},
		{"1m token: exactly at lead", tok(time.Minute), t0.Add(30 * time.Second), 0, 30 * time.Second, true},
		{"1h token: 10% = 6m, outside", tok(time.Hour), t0.Add(53*time.Minute + 59*time.Second), 0, 6 * time.Minute, false},
		{"1h token: 10% = 6m, inside", tok(time.Hour), t0.Add(54 * time.Minute), 0, 6 * time.Minute, true},
		{"24h token", tok(24 * time.Hour), t0.Add(20 * time.Hour), 0, 144 * time.Minute, false},
		{"minTTL larger than lead", tok(time.Hour), t0.Add(40 * time.Minute), 30 * time.Minute, 6 * time.Minute, true},
		{"expired", tok(time.Hour), t0.Add(2 * time.Hour), 0, 6 * time.Minute, true},
		{"unknown expiry never due", Token{Value: NewSecret("x"), IssuedAt: t0}, t0.Add(100 * time.Hour), 0, 30 * time.Second, false},
		{"empty token always due", Token{}, t0, 0, 30 * time.Second, true},
		// SPEC §5: never earlier than half the lifetime.
		{"3s token: lead is half, fresh", tok(3 * time.Second), t0.Add(time.Second), 0, 1500 * time.Millisecond, false},
		{"3s token: lead is half, at half", tok(3 * time.Second), t0.Add(1500 * time.Millisecond), 0, 1500 * time.Millisecond, true},
		{"20s token: 30s floor capped at 10s", tok(20 * time.Second), t0.Add(9 * time.Second), 0, 10 * time.Second, false},
		{"4s token, minTTL 60s beyond its lifetime: half", tok(4 * time.Second), t0.Add(time.Second), time.Minute, 2 * time.Second, false},
		{"4s token, minTTL 60s, past half", tok(4 * time.Second), t0.Add(2 * time.Second), time.Minute, 2 * time.Second, true},
		{"1h token, minTTL 50m within its lifetime", tok(time.Hour), t0.Add(11 * time.Minute), 50 * time.Minute, 6 * time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tok.RefreshLead() != tc.lead || tc.tok.DueForRefresh(tc.at, tc.minTTL) != tc.due {
				t.Fatalf("lead %v due %v", tc.tok.RefreshLead(), tc.tok.DueForRefresh(tc.at, tc.minTTL))
			}
		})
	}
	if tok(time.Hour).Expired(t0.Add(59*time.Minute)) || !tok(time.Hour).Expired(t0.Add(time.Hour)) {
		t.Fatal("Expired")
	}
}

func TestNormalizeTokenType(t *testing.T) {
	for in, want := range map[string]string{"": "Bearer", "bearer": "Bearer", "BEARER": "Bearer", "dpop": "DPoP", "DpOp": "DPoP", "mac": "mac"} {
		if got := NormalizeTokenType(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestParseScopes(t *testing.T) {
	s, err := ParseScopes(" packs.run\tpacks.read\npacks.run ")
	if err != nil || s.String() != "packs.read packs.run" || !s.Has("packs.run") || s.Missing(Scopes{"a", "packs.read"}).String() != "a" {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"a\x00b", "é", `a"b`, `a\b`, "a\x7fb"} {
		if _, err := ParseScopes(bad); KindOf(err) != KindUsage {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateServerURL(t *testing.T) {
	ok := []string{"https://a.example.com", "https://a.example.com/tenant/", "http://127.0.0.1:8080", "http://[::1]:9", "http://localhost"}
	bad := []string{"", "a.example.com", "/rel", "ftp://a", "http://a.example.com", "https://user:pw@a", "https://a/?q=1", "https://a/#f",
		"https://" + strings.Repeat("a", 2100)}
	for _, u := range ok {
		if _, err := ValidateServerURL("x", u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
	for _, u := range bad {
		if _, err := ValidateServerURL("x", u); KindOf(err) != KindUsage {
			t.Errorf("%q accepted", u)
		}
	}
	// The message echoes the URL the user typed, never a password in it,
	// whether the URL parses or not.
	for _, u := range []string{"https://user:hunter2@a", "https://user:hunter2@a:%zz", "https://hunter2@a:99999", "ht tps://user:hunter2@a"} {
		if _, err := ValidateServerURL("x", u); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func TestSessionKeyID(t *testing.T) {
	base := SessionKey{Profile: "p", Issuer: "https://a", ClientID: "c"}
	seen := map[string]bool{}
	for _, k := range []SessionKey{base, {"p", "https://b", "c"}, {"p", "https://a", "d"}, {"q", "https://a", "c"},
		{"../x", "https://a", "c"}, {"a/b", "https://a", "c"}, {"é" + strings.Repeat("z", 200), "https://a", "c"}} {
		id := k.ID()
		if seen[id] || strings.ContainsAny(id, "/\\.") || len(id) > 60 || id != k.ID() {
			t.Fatalf("bad id %q for %v", id, k)
		}
		seen[id] = true
	}
}

func TestSessionCodec(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Session{Key: SessionKey{"p", "https://a", "c"}, Grant: GrantPassword,
		Access:  Token{Value: NewSecret("at"), Type: TokenTypeBearer, IssuedAt: now, Expiry: now.Add(time.Hour), Scopes: Scopes{"a"}},
		Refresh: NewSecret("rt"), Identity: Identity{Subject: "s"}, Created: now, Claims: map[string]any{"cnf": map[string]any{"jkt": "x"}}}
	b, err := EncodeSession(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSession(b)
	if err != nil || got.Refresh.Reveal() != "rt" || got.Access.Value.Reveal() != "at" || !got.Access.Expiry.Equal(s.Access.Expiry) ||
		ClaimCnf(got.Claims, "jkt") != "x" {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{`{`, `{"v":2}`, `{"v":1,"profile":"p","issuer":"i","clientId":"c"}`} {
		if _, err := DecodeSession([]byte(bad)); KindOf(err) != KindStorage {
			t.Errorf("%s: %v", bad, err)
		}
	}
	kept := s.WithGrant(Grant{Access: Token{Value: NewSecret("at2")}})
	if kept.Refresh.Reveal() != "rt" || kept.Access.Value.Reveal() != "at2" {
		t.Fatal("WithGrant must keep the refresh token when none came back")
	}
}

func TestParseOAuthError(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
		want string
	}{
		{`{"error":"invalid_grant","error_description":"expired"}`, true, "invalid_grant: expired"},
		{`{"error":"invalid_client"}`, true, "invalid_client"},
		{`{"error":"x","error_description":"a\u001b[31mred\nline"}`, true, `x: a\u001b[31mred line`},
		{`<html>`, false, ""},
		{`["error"]`, false, ""},
		{`{"error":42}`, false, ""},
		{`{"error":"bad\"quote"}`, false, ""},
		{`{"error":"` + strings.Repeat("e", 200) + `"}`, false, ""},
	}
	for _, tc := range cases {
		e, ok := ParseOAuthError([]byte(tc.body))
		if ok != tc.ok || (ok && e.String() != tc.want) {
			t.Errorf("%s → %v %q", tc.body, ok, e.String())
		}
	}
	if got := Printable("ééé", 4); got != "éé…" {
		t.Errorf("Printable cut %q", got)
	}
}

func TestParseProblem(t *testing.T) {
	p, ok := ParseProblem([]byte(`{"type":"about:blank","title":"Forbidden","status":403,"detail":"needs packs.run","requiredScope":"packs.run"}`))
	if !ok || p.Status != 403 || p.RequiredScope != "packs.run" || p.Summary() != "Forbidden: needs packs.run" {
		t.Fatalf("%+v", p)
	}
	p, ok = ParseProblem([]byte(`{"title":7,"status":"x","detail":"d"}`))
	if !ok || p.Title != "" || p.Status != 0 || p.Detail != "d" {
		t.Fatalf("wrong types must be ignored: %+v", p)
	}
	p, _ = ParseProblem([]byte(`{"status":999,"title":"t"}`))
	if p.Status != 0 {
		t.Fatal("status out of range")
	}
	for _, bad := range []string{`{}`, `[]`, `null`, `x`} {
		if _, ok := ParseProblem([]byte(bad)); ok {
			t.Errorf("%s accepted", bad)
		}
	}
	if !IsProblemJSON("application/problem+json; charset=utf-8") || IsProblemJSON("application/json") {
		t.Fatal("IsProblemJSON")
	}
}

func TestParseWWWAuthenticate(t *testing.T) {
	type c = map[string]string
	cases := []struct {
		in   []string
		want []string // scheme|param=value,...
	}{
		{[]string{`Bearer realm="example"`}, []string{"Bearer|realm=example"}},
		{[]string{`Bearer error="invalid_token", error_description="The access token expired"`}, []string{"Bearer|error=invalid_token,error_description=The access token expired"}},
		{[]string{`Bearer error="insufficient_scope", scope="packs.run packs.read"`}, []string{"Bearer|error=insufficient_scope,scope=packs.run packs.read"}},
		{[]string{`DPoP algs="ES256 PS256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`},
			[]string{"DPoP|algs=ES256 PS256,error=use_dpop_nonce,error_description=Resource server requires nonce in DPoP proof"}},
		{[]string{`Bearer realm="x", DPoP algs="ES256"`}, []string{"Bearer|realm=x", "DPoP|algs=ES256"}},
		{[]string{`Basic realm="simple"`, `Bearer`}, []string{"Basic|realm=simple", "Bearer|"}},
		{[]string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]string{`Newauth|realm=apps,title=Login to "apps",type=1`, "Basic|realm=simple"}},
		{[]string{`Negotiate abc==`}, []string{"Negotiate|token68=abc=="}},
		{[]string{`Bearer ERROR=invalid_token`}, []string{"Bearer|error=invalid_token"}},
		{[]string{`Bearer realm="unterminated`}, []string{"Bearer|"}},
		{[]string{`"garbage`}, nil},
	}
	for _, tc := range cases {
		var got []string
		for _, ch := range ParseWWWAuthenticate(tc.in) {
			var ps []string
			if ch.Token68 != "" {
				ps = append(ps, "token68="+ch.Token68)
			}
			keys := make([]string, 0, len(ch.Params))
			for k := range ch.Params {
				keys = append(keys, k)
			}
			sortStrings(keys)
			for _, k := range keys {
				ps = append(ps, k+"="+ch.Params[k])
			}
			got = append(got, ch.Scheme+"|"+strings.Join(ps, ","))
		}
		if strings.Join(got, " ; ") != strings.Join(tc.want, " ; ") {
			t.Errorf("%q\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	ch, ok := FindChallenge(ParseWWWAuthenticate([]string{`bearer scope="a"`}), "Bearer")
	if !ok || ch.Param("SCOPE") != "a" {
		t.Fatal("FindChallenge")
	}
	_ = c{}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestClaims(t *testing.T) {
	jwt := "eyJhbGciOiJub25lIn0." + b64(`{"sub":"op","aud":["a","b"],"exp":1795353439,"cnf":{"jkt":"t"},"preferred_username":"o"}`) + ".sig"
	c, ok := PeekJWTClaims(jwt)
	if !ok || ClaimString(c, "sub") != "op" || len(ClaimAudience(c)) != 2 || ClaimCnf(c, "jkt") != "t" ||
		ClaimTime(c, "exp").Unix() != 1795353439 || IdentityFromClaims(c).Name != "o" {
		t.Fatalf("%v %v", c, ok)
	}
	for _, bad := range []string{"a.b", "a.!!.c", "a." + b64(`[1]`) + ".c", "a." + b64(`{"a":1}{}`) + ".c", "a." + strings.Repeat("A", 70000) + ".c"} {
		if _, ok := PeekJWTClaims(bad); ok {
			t.Errorf("%.20s accepted", bad)
		}
	}
	if !ClaimTime(map[string]any{"exp": -5.0}, "exp").IsZero() || !ClaimTime(map[string]any{"exp": 1e15}, "exp").IsZero() {
		t.Fatal("absurd times must be zero")
	}
}

func b64(s string) string {
	return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(base64Std(s)), "=")
}

func TestClassifyNetError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, dialErr := net.Dial("tcp", addr)
	cases := []struct {
		err  error
		kind Kind
		msg  string
	}{
		{dialErr, KindUnreachable, "connection refused by the Authority at h"},
		{&net.DNSError{Err: "no such host", Name: "x"}, KindUnreachable, "cannot resolve the Authority at h"},
		{context.DeadlineExceeded, KindUnreachable, "timed out"},
		{E(KindServer, "already kinded", ""), KindServer, "already kinded"},
	}
	for _, tc := range cases {
		err := ClassifyNetError(tc.err, "the Authority", "h")
		if KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v → %v (%v)", tc.err, err, KindOf(err))
		}
	}
	// Said once: the refusal, not again the dialler's own words.
	if err := ClassifyNetError(dialErr, "the Authority", "h"); err.Error() != "connection refused by the Authority at h" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: %q (still ECONNREFUSED: %v)", err.Error(), errors.Is(err, syscall.ECONNREFUSED))
	}
	if !errors.Is(ClassifyNetError(context.Canceled, "x", "h"), context.Canceled) {
		t.Fatal("cancellation must pass through")
	}
}

func TestUserAgent(t *testing.T) {
	if got := (BuildInfo{Version: "1.2.3", GOOS: "linux", GOARCH: "amd64"}).UserAgent(); got != "stella/1.2.3 (linux/amd64)" {
		t.Fatal(got)
	}
}

func TestValidatePlanHash(t *testing.T) {
	good := "sha256:" + strings.Repeat("ab", 32)
	for _, h := range []string{good} {
		if err := ValidatePlanHash(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	for _, h := range []string{"", "sha256:", "sha1:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), good + "0", "sha256:" + strings.Repeat("g", 64)} {
		if KindOf(ValidatePlanHash(h)) != KindUsage {
			t.Errorf("%q accepted", h)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "''",
		"packs.run":            "packs.run",
		"packs.read packs.run": "'packs.read packs.run'",
		"it's":                 `'it'\''s'`,
		"$(rm -rf ~)":          "'$(rm -rf ~)'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// One table for token-endpoint and authorization-response errors (SPEC §3.7).
func TestOAuthErrorKind(t *testing.T) {
	for code, want := range map[string]Kind{
		"access_denied": KindAccessDenied, "invalid_scope": KindForbidden, "unauthorized_client": KindUnauthorized,
		"invalid_client": KindUnauthorized, "server_error": KindServer, "temporarily_unavailable": KindServer,
		"invalid_grant": KindLoginRequired, "expired_token": KindTimeout, "invalid_request": KindProtocol,
		"login_required": KindProtocol, "": KindProtocol,
	} {
		if got := (OAuthError{Code: code}).Kind(); got != want {
			t.Errorf("%q: %v, want %v", code, got, want)
		}
	}
}

func TestWantedScopes(t *testing.T) {
	cases := []struct {
		scope, add string
		person     bool
		want       string
	}{
		{"", "", true, "offline_access openid profile"},
		{"", "packs.run", true, "offline_access openid packs.run profile"},
		{"packs.read", "packs.run", true, "packs.read packs.run"},
		{"", "", false, ""},
		{"", "packs.run", false, "packs.run"},
		{"packs.run", "packs.run", false, "packs.run"},
	}
	for _, tc := range cases {
		sc, _ := ParseScopes(tc.scope)
		add, _ := ParseScopes(tc.add)
		if got := (Settings{Scopes: sc, AddScopes: add}).WantedScopes(tc.person).String(); got != tc.want {
			t.Errorf("Scope %q AddScope %q person %v: %q, want %q", tc.scope, tc.add, tc.person, got, tc.want)
		}
	}
}

func TestPrintableShowsControls(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b]0;pwned\x07title", `\u001b]0;pwned\u0007title`},
		{"\x1b]52;c;ZWNobw==\x07", `\u001b]52;c;ZWNobw==\u0007`},
		{"a\u009b2Jb", `a\u009b2Jb`},
		{"code \u202eABCD\u202c", `code \u202eABCD\u202c`},
		{"\u2066x\u2069\u200b\ufeff", `\u2066x\u2069\u200b\ufeff`},
		{"del\x7f", `del\u007f`},
		{"two\nlines\ttab", "two lines tab"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"Olivia Operator", "Olivia Operator"},
	}
	for _, tc := range cases {
		if got := Printable(tc.in, 300); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := fmt.Sprintf("%s|%v", Untrusted(tc.in), Untrusted(tc.in)); got != tc.want+"|"+tc.want {
			t.Errorf("Untrusted(%q) printed %q", tc.in, got)
		}
	}
	if got := Printable(strings.Repeat("x", 400), 300); len(got) != 300+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("long value not cut: %d bytes", len(got))
	}
}

// A JSON document keeps the server's value — escaped, not sanitised — and
// writes it exactly as it writes a string, with and without HTML escaping,
// so --json and the stored session are what they were before Untrusted.
func TestUntrustedJSONIsTheString(t *testing.T) {
	for _, in := range []string{"Olivia", "a<b>&c", "\x1b]0;pwned\x07", "\u202eABCD", "line\u2028sep", "bad\xffutf8", ""} {
		for _, html := range []bool{true, false} {
			enc := func(v any) string {
				var b bytes.Buffer
				e := json.NewEncoder(&b)
				e.SetEscapeHTML(html)
				if err := e.Encode(v); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			id := Identity{Subject: Untrusted(in), Name: Untrusted(in)}
			plain := struct {
				Subject string `json:"subject,omitempty"`
				Name    string `json:"name,omitempty"`
			}{in, in}
			if got, want := enc(id), enc(plain); got != want {
				t.Errorf("%q (html %v): %s, want %s", in, html, got, want)
			}
		}
		var back Identity
		if err := json.Unmarshal([]byte(`{"name":`+strconvQuote(in)+`}`), &back); err != nil || back.Name.Raw() != strings.ToValidUTF8(in, "\ufffd") {
			t.Errorf("%q did not round-trip: %q, %v", in, back.Name.Raw(), err)
		}
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

// The server's words are kept as they came (Raw) and leave only sanitised:
// String, every fmt verb, Cut, JoinUntrusted, and the errors built of them.
func TestUntrustedWaysOut(t *testing.T) {
	u := Untrusted("\x1b]52;c;ZWNobw==\x07 Olivia\u202e")
	const shown = `\u001b]52;c;ZWNobw==\u0007 Olivia\u202e`
	if u.Raw() != "\x1b]52;c;ZWNobw==\x07 Olivia\u202e" || u.String() != shown || fmt.Sprintf("%s %v %x %d", u, u, u, u) != shown+" "+shown+" "+shown+" "+shown {
		t.Errorf("raw %q, shown %q / %s", u.Raw(), u.String(), fmt.Sprintf("%v", u))
	}
	if got := fmt.Sprintf("%q", u); got != strconvQuote(shown) {
		t.Errorf("%%q: %s", got)
	}
	if got := u.Cut(10); got != `\u001b]52;…` {
		t.Errorf("Cut: %q", got)
	}
	if got := JoinUntrusted([]Untrusted{"ES256", "\x1b[2J"}, ", "); got != `ES256, \u001b[2J` {
		t.Errorf("JoinUntrusted: %q", got)
	}
	e, ok := ParseOAuthError([]byte(`{"error":"access_denied","error_description":"no\u001b[2J\u202e"}`))
	if !ok || e.Description.Raw() != "no\x1b[2J\u202e" || e.String() != `access_denied: no\u001b[2J\u202e` {
		t.Errorf("OAuth error: %q / %q", e.Description.Raw(), e.String())
	}
	if e, _ := ParseOAuthError([]byte(`{"error":"access_denied","error_description":" \n "}`)); e.String() != "access_denied" {
		t.Errorf("a blank description shows: %q", e.String())
	}
	p, ok := ParseProblem([]byte(`{"title":"Forbidden\u001b]0;x\u0007","detail":"\u202ed"}`))
	if !ok || p.Summary() != `Forbidden\u001b]0;x\u0007: \u202ed` {
		t.Errorf("problem summary: %q", p.Summary())
	}
	if p, ok := ParseProblem([]byte(`{"title":"\u200b"}`)); !ok || p.Title == "" {
		t.Errorf("an invisible title is still a title (shown as an escape): %+v %v", p, ok)
	}
}

func TestShellQuoteServerScopes(t *testing.T) {
	cases := []struct{ in, want string }{
		{"packs.read", "packs.read"},
		{"packs.read packs.run", "'packs.read packs.run'"},
		{"$(touch${IFS}/tmp/x)", "'$(touch${IFS}/tmp/x)'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tc := range cases {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestCheckCacheDir(t *testing.T) {
	cases := []struct {
		name    string
		f       DirFacts
		tighten bool
		errWord string
	}{
		{"private", DirFacts{IsDir: true, Perm: 0o700, Owner: 1000, EUID: 1000}, false, ""},
		{"readable", DirFacts{IsDir: true, Perm: 0o755, Owner: 1000, EUID: 1000}, true, ""},
		{"group writable", DirFacts{IsDir: true, Perm: 0o770, Owner: 1000, EUID: 1000}, false, "writable by other users"},
		{"world writable", DirFacts{IsDir: true, Perm: 0o777, Owner: 1000, EUID: 1000}, false, "chmod 700"},
		{"foreign", DirFacts{IsDir: true, Perm: 0o700, Owner: 65534, EUID: 1000}, false, "belongs to another user (uid 65534)"},
		{"root in foreign", DirFacts{IsDir: true, Perm: 0o700, Owner: 65534, EUID: 0}, false, "running as root"},
		{"no owners", DirFacts{IsDir: true, Perm: 0o700, Owner: -1, EUID: 0}, false, ""},
		{"file", DirFacts{IsDir: false, Perm: 0o600, Owner: 1000, EUID: 1000}, false, "not a directory"},
	}
	for _, tc := range cases {
		tighten, err := CheckCacheDir("/c d", tc.f)
		if tighten != tc.tighten || (err == nil) != (tc.errWord == "") {
			t.Fatalf("%s: tighten %v err %v", tc.name, tighten, err)
		}
		if err != nil && (KindOf(err) != KindStorage || !strings.Contains(err.Error()+HintFor(err), tc.errWord)) {
			t.Fatalf("%s: %v / %s", tc.name, err, HintFor(err))
		}
	}
}

func TestDisplayName(t *testing.T) {
	for _, tc := range []struct {
		id   Identity
		want Untrusted
	}{
		{Identity{Subject: "CgZibG9i", Name: "Olivia", Email: "o@x"}, "Olivia"},
		{Identity{Subject: "CgZibG9i", Email: "o@x"}, "o@x"},
		{Identity{Subject: "CgZibG9i"}, "CgZibG9i"},
		{IdentityFromClaims(map[string]any{"sub": "CgZibG9i", "preferred_username": "olivia", "email": "o@x"}), "olivia"},
	} {
		if got := tc.id.DisplayName(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.id, got, tc.want)
		}
	}
}

// Nonces ride with the session, and a file written before they existed
// (same format version) still opens.
func TestSessionCodecNonces(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Session{Key: SessionKey{"p", "https://a", "c"}, Access: Token{Value: NewSecret("at"), IssuedAt: now},
		Nonces: []DPoPNonce{{Origin: "https://a", Value: "n1", Seen: now}}}
	b, err := EncodeSession(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSession(b)
	if err != nil || len(got.Nonces) != 1 || got.Nonces[0].Value != "n1" || !got.Nonces[0].Seen.Equal(now) {
		t.Fatalf("%+v %v", got.Nonces, err)
	}
	old := `{"v":1,"profile":"p","issuer":"https://a","clientId":"c","accessToken":"at","tokenType":"Bearer","issuedAt":"2026-01-01T00:00:00Z","identity":{},"constraint":{"mode":"bearer"},"created":"2026-01-01T00:00:00Z"}`
	if got, err := DecodeSession([]byte(old)); err != nil || got.Nonces != nil {
		t.Fatalf("a version-1 file without nonces: %+v %v", got.Nonces, err)
	}
}

func TestFreshNonces(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	in := []DPoPNonce{
		{Origin: "https://a", Value: "old", Seen: now.Add(-10 * time.Minute)},
		{Origin: "https://a", Value: "new", Seen: now.Add(-time.Minute)},
		{Origin: "https://b", Value: "stale", Seen: now.Add(-2 * time.Hour)},
		{Origin: "https://c", Value: "", Seen: now},
		{Origin: "https://d", Value: strings.Repeat("x", MaxNonceBytes+1), Seen: now},
		{Origin: "https://e", Value: "future", Seen: now.Add(time.Hour)},
	}
	got := FreshNonces(in, now)
	if len(got) != 1 || got[0].Value != "new" {
		t.Fatalf("%+v", got)
	}
	var many []DPoPNonce
	for i := range 40 {
		many = append(many, DPoPNonce{Origin: fmt.Sprintf("https://h%02d", i), Value: "n", Seen: now.Add(-time.Duration(i) * time.Second)})
	}
	got = FreshNonces(many, now)
	if len(got) != maxNonces || got[0].Origin != "https://h00" {
		t.Fatalf("bounded to the newest %d: %d, first %s", maxNonces, len(got), got[0].Origin)
	}
	if !SameNonceValues(got[:1], []DPoPNonce{{Origin: "https://h00", Value: "n", Seen: now.Add(time.Hour)}}) ||
		SameNonceValues(got[:1], []DPoPNonce{{Origin: "https://h00", Value: "m"}}) {
		t.Fatal("SameNonceValues compares values by origin, not ages")
	}
}

func TestPendingRevocationKey(t *testing.T) {
	k := SessionKey{Profile: "ci", Issuer: "https://a", ClientID: "c"}
	p := k.PendingRevocationKey("20260101T000000Z")
	if !p.IsPendingRevocation() || k.IsPendingRevocation() || p.PendingProfile() != "ci" || p.Issuer != k.Issuer || p.ClientID != k.ClientID || p.ID() == k.ID() {
		t.Fatalf("%+v", p)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Session{Key: p, Access: Token{Value: NewSecret("at"), Expiry: now.Add(time.Minute)}, Refresh: NewSecret("rt"), Created: now}
	if got := strings.Join(s.PendingTokens(now), ","); got != "refresh_token,access_token" || s.PendingExpired(now) {
		t.Fatalf("%s", got)
	}
	s.Refresh = Secret{}
	if !s.PendingExpired(now.Add(time.Hour)) || !(Session{Refresh: NewSecret("rt"), Created: now}).PendingExpired(now.Add(MaxPendingAge+time.Hour)) {
		t.Fatal("an expired access token alone, or an old entry, is past keeping")
	}
}

func TestClientSecretSource(t *testing.T) {
	secret := NewSecret("s")
	cases := []struct {
		name string
		s    Settings
		want string
	}{
		{"none", Settings{}, ""},
		{"env value", Settings{ClientSecret: secret, Effective: []Setting{{Key: "Authority.ClientSecret", Source: Source{Kind: SourceEnv, Detail: "STELLA_CLIENT_SECRET"}}}}, "STELLA_CLIENT_SECRET"},
		{"env file", Settings{ClientSecret: secret, ClientSecretFile: "/run/s", Effective: []Setting{{Key: "Authority.ClientSecret", Source: Source{Kind: SourceEnv, Detail: "STELLA_CLIENT_SECRET_FILE"}}}}, "STELLA_CLIENT_SECRET_FILE"},
		{"profile file", Settings{ClientSecret: secret, ClientSecretFile: "/s", Effective: []Setting{{Key: "Authority.ClientSecret", Source: Source{Kind: SourceProfile, Detail: "/p/ci.yaml:5"}}}}, "ClientSecretFile in /p/ci.yaml:5"},
		{"profile value", Settings{ClientSecret: secret, Effective: []Setting{{Key: "Authority.ClientSecret", Source: Source{Kind: SourceProfile, Detail: "/p/ci.yaml:4"}}}}, "ClientSecret in /p/ci.yaml:4"},
		{"no provenance", Settings{ClientSecret: secret}, "the configured ClientSecret"},
	}
	for _, c := range cases {
		if got := c.s.ClientSecretSource(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
