package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

// Whoami asks userinfo with a valid credential, falls back to the cached
// claims only when the Authority cannot answer, and never shows another
// subject's answer as the session's.
func TestWhoami(t *testing.T) {
	work := testSettings()
	work.Profile = "work"
	cases := []struct {
		name        string
		s           domain.Settings
		remaining   time.Duration // of the stored session; 0: none stored
		refreshErr  error
		userinfo    map[string]any
		userinfoErr error
		ok          bool        // no error
		kind        domain.Kind // when not ok
		hint        string      // a part of the hint, when not ok
		source      string
		note        string           // a part of it
		shown       domain.Untrusted // the identity's name shown
		refreshed   bool
	}{
		{name: "userinfo answers", s: testSettings(), remaining: time.Hour, ok: true,
			userinfo: map[string]any{"sub": "operator", "name": "Olivia Operator", "email": "o@acme.example", "tenant": "acme"},
			source:   "userinfo", shown: "Olivia Operator"},
		{name: "an expired token is renewed first", s: testSettings(), remaining: -time.Minute, ok: true, refreshed: true,
			userinfo: map[string]any{"sub": "operator", "name": "Olivia Operator"}, source: "userinfo", shown: "Olivia Operator"},
		{name: "userinfo for another subject", s: work, remaining: time.Hour, kind: domain.KindProtocol,
			userinfo: map[string]any{"sub": "mallory"}, hint: "`stella auth login --profile work --force`"},
		{name: "userinfo fails: the cached claims, saying why", s: testSettings(), remaining: time.Hour, ok: true,
			userinfoErr: domain.E(domain.KindServer, "the userinfo endpoint failed (503)", ""),
			source:      "cached", note: "userinfo unavailable: the userinfo endpoint failed (503); showing the cached claims"},
		{name: "Authority unreachable while renewing: the cached claims", s: testSettings(), remaining: -time.Minute, ok: true, refreshed: true,
			refreshErr: domain.E(domain.KindUnreachable, "connection refused", ""),
			source:     "cached", note: "the Authority could not be reached"},
		{name: "a dead refresh token is the error", s: work, remaining: -time.Minute, refreshed: true,
			refreshErr: domain.E(domain.KindLoginRequired, "invalid_grant", ""), kind: domain.KindLoginRequired, hint: "`stella auth login --profile work`"},
		{name: "not signed in", s: work, kind: domain.KindLoginRequired, hint: "Run `stella auth login --profile work`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTM(t, tc.s)
			now := f.clock.Now()
			if tc.remaining != 0 {
				f.store.sessions[tc.s.SessionKey()] = userSession(tc.s, now.Add(-time.Hour), now.Add(tc.remaining))
			}
			f.auth.failNext = tc.refreshErr
			a := &scriptedAuthority{fakeAuthority: f.auth, userinfo: tc.userinfo, userinfoErr: tc.userinfoErr}
			out, err := NewWhoami(tc.s, f.tm, a, discardLog()).Do(context.Background())
			if got := f.auth.refresh.Load() == 1; got != tc.refreshed {
				t.Fatalf("refreshed = %v, want %v", got, tc.refreshed)
			}
			if !tc.ok {
				if err == nil || domain.KindOf(err) != tc.kind || !strings.Contains(tc.s.HintFor(err), tc.hint) {
					t.Fatalf("err = %v (%v), hint %q; want %v with %q", err, domain.KindOf(err), tc.s.HintFor(err), tc.kind, tc.hint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Source != tc.source || !strings.Contains(out.Note, tc.note) || (tc.note == "") != (out.Note == "") ||
				out.Identity.Name != tc.shown || out.ClientID != "stella-cli" || out.Identity.Subject != "operator" {
				t.Fatalf("out = %+v", out)
			}
			if tc.source == "userinfo" {
				// Asked with the credential in force, never a stale one.
				if len(a.userinfoSeen) != 1 || a.userinfoSeen[0].Access.Value.Reveal() != f.store.sessions[tc.s.SessionKey()].Access.Value.Reveal() {
					t.Fatalf("userinfo asked with %v", a.userinfoSeen)
				}
			}
		})
	}
}
