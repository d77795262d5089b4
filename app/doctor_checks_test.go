package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Each check of SPEC §3.12 against fakes: what it says when it passes, how
// it fails with a fix, what a failure skips, and the exit code the first
// failure decides.
func TestDoctorChecks(t *testing.T) {
	clock := newClock()
	now := clock.Now()
	healthy := func() *scriptedAuthority {
		return &scriptedAuthority{fakeAuthority: &fakeAuthority{clock: clock},
			discovery: ports.Discovery{Endpoints: []string{"token", "revocation"}, ServerDate: now, FetchedAt: now.Add(40 * time.Millisecond)}}
	}
	discoveryFails := func(err error) func() *scriptedAuthority {
		return func() *scriptedAuthority { a := healthy(); a.discoverErr = err; return a }
	}
	fine := scriptedInspector{dir: "/home/u/.stellaops/tokens"}
	work := testSettings()
	work.Profile = "work"
	unreadable := domain.ESignIn(domain.KindStorage, "stored session is incomplete", domain.SignInHint{Before: "Sign in again with ", Flags: " --force", After: "."})

	type want struct {
		status CheckStatus
		detail string // a part of it
		fix    string // a part of it; "" for none
	}
	cases := []struct {
		name      string
		s         domain.Settings
		configErr error
		authority func() *scriptedAuthority
		storage   scriptedInspector
		want      map[string]want
		ok        bool        // no error
		kind      domain.Kind // when not ok
		summary   string      // the error's message when not ok
	}{
		{name: "all pass", s: testSettings(), authority: healthy, storage: fine, ok: true, want: map[string]want{
			"configuration": {CheckPass, "profile default (default), Authority https://authority.example.com (default), client stella-cli (default)", ""},
			"authority":     {CheckPass, "https://authority.example.com answered in 40ms", ""},
			"discovery":     {CheckPass, "issuer matches; endpoints: token, revocation", ""},
			"clock":         {CheckPass, "within 1s of the Authority's clock", ""},
			"keychain":      {CheckPass, "not used: TokenStorage is", ""},
			"token cache":   {CheckPass, "/home/u/.stellaops/tokens is private to this user", ""},
			"sessions":      {CheckPass, "no stored sessions", ""},
		}},
		{name: "no Authority: its checks are skipped", s: domain.Settings{}, authority: healthy, storage: fine, kind: domain.KindUsage,
			summary: "1 of 7 checks failed (first: configuration)", want: map[string]want{
				"configuration": {CheckFail, "no Authority URL is configured", "STELLA_AUTHORITY_URL"},
				"authority":     {CheckSkip, "needs an Authority URL and client id", ""},
				"discovery":     {CheckSkip, "needs an Authority URL and client id", ""},
				"clock":         {CheckSkip, "needs an Authority URL and client id", ""},
				"sessions":      {CheckPass, "no stored sessions", ""},
			}},
		{name: "a configuration that does not resolve", s: testSettings(), configErr: domain.E(domain.KindUsage, "/p/work.yaml:3: unknown key", "Fix line 3."),
			authority: healthy, storage: fine, kind: domain.KindUsage, summary: "1 of 7 checks failed (first: configuration)", want: map[string]want{
				"configuration": {CheckFail, "/p/work.yaml:3: unknown key", "Fix line 3."},
				"authority":     {CheckSkip, "needs a configuration that resolves", ""},
			}},
		{name: "Authority unreachable", s: testSettings(), storage: fine, kind: domain.KindUnreachable, summary: "1 of 7 checks failed (first: authority)",
			authority: discoveryFails(domain.E(domain.KindUnreachable, "connection refused by the Authority at authority.example.com:443", "")), want: map[string]want{
				"authority": {CheckFail, "connection refused", "Check the URL"},
				"discovery": {CheckSkip, "the Authority did not answer", ""},
				"clock":     {CheckSkip, "the Authority did not answer", ""},
			}},
		{name: "discovery refused", s: testSettings(), storage: fine, kind: domain.KindProtocol, summary: "1 of 7 checks failed (first: discovery)",
			authority: discoveryFails(domain.E(domain.KindProtocol, "the issuer in discovery differs", "Check the Authority URL.")), want: map[string]want{
				"authority": {CheckPass, "https://authority.example.com answered", ""},
				"discovery": {CheckFail, "the issuer in discovery differs", "Check the Authority URL."},
				"clock":     {CheckSkip, "no valid discovery response", ""},
			}},
		{name: "DPoP without ES256", s: func() domain.Settings { s := testSettings(); s.AuthMode = domain.AuthModeDPoP; return s }(), storage: fine,
			kind: domain.KindProtocol, summary: "1 of 7 checks failed (first: discovery)",
			authority: func() *scriptedAuthority {
				a := healthy()
				a.discovery.DPoPAlgs = []domain.Untrusted{"RS256"}
				return a
			},
			want: map[string]want{"discovery": {CheckFail, "the Authority's DPoP algorithms (RS256) do not include ES256", "AuthMode: bearer"}}},
		{name: "clock skew", s: testSettings(), storage: fine, kind: domain.KindProtocol, summary: "1 of 7 checks failed (first: clock)",
			authority: func() *scriptedAuthority {
				a := healthy()
				a.discovery.ServerDate = now.Add(-2 * time.Minute)
				return a
			},
			want: map[string]want{"clock": {CheckFail, "this machine's clock is 2m0s ahead of the Authority's", "timedatectl set-ntp true"}}},
		{name: "no Date header", s: testSettings(), storage: fine, ok: true,
			authority: func() *scriptedAuthority { a := healthy(); a.discovery.ServerDate = time.Time{}; return a },
			want:      map[string]want{"clock": {CheckSkip, "the Authority sent no Date header", ""}}},
		{name: "keychain in use and failing", s: testSettings(), authority: healthy, kind: domain.KindStorage, summary: "1 of 7 checks failed (first: keychain)",
			storage: scriptedInspector{dir: "/t", keychainUsed: true, keychainErr: domain.E(domain.KindStorage, "the keychain did not answer within 3s", "Unlock it.")},
			want:    map[string]want{"keychain": {CheckFail, "the keychain did not answer within 3s", "Unlock it."}}},
		{name: "keychain not needed", s: testSettings(), authority: healthy, ok: true,
			storage: scriptedInspector{dir: "/t", keychainErr: domain.E(domain.KindStorage, "no D-Bus session", "")},
			want:    map[string]want{"keychain": {CheckSkip, "not usable (no D-Bus session); not needed with TokenStorage", ""}}},
		{name: "token cache not private", s: testSettings(), authority: healthy, kind: domain.KindStorage, summary: "1 of 7 checks failed (first: token cache)",
			storage: scriptedInspector{dirErr: domain.E(domain.KindStorage, "/t is writable by others", "chmod 700 /t")},
			want:    map[string]want{"token cache": {CheckFail, "/t is writable by others", "chmod 700 /t"}}},
		{name: "unreadable sessions moved aside: the fix names the profile", s: work, authority: healthy, kind: domain.KindStorage,
			summary: "1 of 7 checks failed (first: sessions)",
			storage: scriptedInspector{dir: "/t", files: []ports.SessionFile{{Path: "/t/a.json"}, {Path: "/t/b.json", Err: unreadable, MovedTo: "/t/b.json.unreadable"}}},
			want: map[string]want{"sessions": {CheckFail, "1 of 2 stored session(s) unreadable: /t/b.json: stored session is incomplete; moved aside to /t/b.json.unreadable",
				"Sign in again (`stella auth login --profile work`)"}}},
		{name: "an unreadable session's own fix names the profile", s: work, authority: healthy, kind: domain.KindStorage,
			summary: "1 of 7 checks failed (first: sessions)",
			storage: scriptedInspector{dir: "/t", files: []ports.SessionFile{{Path: "/t/b.json", Err: unreadable}}},
			want:    map[string]want{"sessions": {CheckFail, "1 of 1 stored session(s) unreadable", "Sign in again with `stella auth login --profile work --force`."}}},
		{name: "several failures: the first decides", s: testSettings(), kind: domain.KindUnreachable, summary: "2 of 7 checks failed (first: authority)",
			authority: discoveryFails(domain.E(domain.KindUnreachable, "timeout", "")),
			storage:   scriptedInspector{dirErr: domain.E(domain.KindStorage, "/t is another user's", "")},
			want:      map[string]want{"token cache": {CheckFail, "/t is another user's", "Run `stella auth doctor`"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDoctor(tc.s, tc.authority(), tc.storage, clock)
			if tc.configErr != nil {
				d.ConfigurationFailed(tc.configErr)
			}
			out, err := d.Do(context.Background())
			names := make([]string, len(out.Checks))
			for i, c := range out.Checks {
				names[i] = c.Name
			}
			if got := strings.Join(names, ","); got != "configuration,authority,discovery,clock,keychain,token cache,sessions" {
				t.Fatalf("checks %s", got)
			}
			switch {
			case tc.ok && err != nil:
				t.Fatalf("err = %v, want none", err)
			case !tc.ok && (err == nil || domain.KindOf(err) != tc.kind || err.Error() != tc.summary):
				t.Fatalf("err = %v (%v), want %v %q", err, domain.KindOf(err), tc.kind, tc.summary)
			}
			for _, c := range out.Checks {
				w, ok := tc.want[c.Name]
				if !ok {
					continue
				}
				if c.Status != w.status || !strings.Contains(c.Detail, w.detail) || (w.fix == "") != (c.Fix == "") || !strings.Contains(c.Fix, w.fix) {
					t.Errorf("%s = %+v, want %+v", c.Name, c, w)
				}
			}
			if !tc.ok && !strings.Contains(tc.s.HintFor(err), firstFix(out)) {
				t.Errorf("the error's hint %q is not the first failure's fix %q", tc.s.HintFor(err), firstFix(out))
			}
		})
	}
}

func firstFix(out DoctorOutput) string {
	for _, c := range out.Checks {
		if c.Status == CheckFail {
			return c.Fix
		}
	}
	return ""
}
