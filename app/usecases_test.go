package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

func newLogin(f *tmFixture) *Login {
	return NewLogin(f.s, f.store, &fakeLocker{}, f.auth, f.tm, Interactive{Browser: noBrowser{}, Console: quietConsole{}}, f.clock, discardLog())
}

type noBrowser struct{}

func (noBrowser) CanOpen() (bool, string)            { return false, "no display" }
func (noBrowser) Open(context.Context, string) error { return nil }

type quietConsole struct{}

func (quietConsole) Say(string)      {}
func (quietConsole) Progress(string) {}
func (quietConsole) Done()           {}

func TestLoginFlowChoice(t *testing.T) {
	cases := []struct {
		name     string
		secret   bool
		nonInter bool
		flow     Flow
		want     Flow
		ok       bool        // no error
		wantKind domain.Kind // when not ok
	}{
		{"secret implies client credentials", true, false, FlowAuto, FlowClientCredentials, true, 0},
		{"non-interactive without credentials is 12", false, true, FlowAuto, 0, false, domain.KindLoginRequired},
		{"explicit password", false, true, FlowPassword, FlowPassword, true, 0},
		{"client credentials without a secret is usage", false, false, FlowClientCredentials, 0, false, domain.KindUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			s.NonInteractive = tc.nonInter
			s.Username, s.Password = "operator", domain.NewSecret("operator")
			if tc.secret {
				s.ClientSecret = domain.NewSecret("x")
			}
			f := newTM(t, s)
			out, err := newLogin(f).Do(context.Background(), LoginInput{Flow: tc.flow})
			if !tc.ok {
				if err == nil || domain.KindOf(err) != tc.wantKind {
					t.Fatalf("err = %v, want kind %v", err, tc.wantKind)
				}
				return
			}
			if err != nil || out.Flow != tc.want {
				t.Fatalf("flow %v, err %v; want %v", out.Flow, err, tc.want)
			}
			if _, ok := f.store.sessions[s.SessionKey()]; !ok {
				t.Fatal("session not saved")
			}
		})
	}
}

func TestPasswordLoginWarnsAndNeverPrompts(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	_, err := newLogin(f).Do(context.Background(), LoginInput{Flow: FlowPassword})
	if domain.KindOf(err) != domain.KindUsage || !strings.Contains(err.Error(), "STELLA_USERNAME") {
		t.Fatalf("err = %v", err)
	}
	s.Username, s.Password = "operator", domain.NewSecret("operator")
	f = newTM(t, s)
	out, err := newLogin(f).Do(context.Background(), LoginInput{Flow: FlowPassword})
	if err != nil || len(out.Warnings) == 0 || !strings.Contains(out.Warnings[0], "deprecated") {
		t.Fatalf("out %+v err %v", out, err)
	}
}

// signedInByPassword is a fixture for password sign-in whose store holds
// a valid session of its settings (refresh token rt-old, an hour left).
func signedInByPassword(t *testing.T) (domain.Settings, *tmFixture) {
	t.Helper()
	s := testSettings()
	s.Username, s.Password = "operator", domain.NewSecret("operator")
	f := newTM(t, s)
	now := f.clock.Now()
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	return s, f
}

// --force signs in again and revokes the superseded refresh token only
// after the new session is saved; without --force a valid session stays.
func TestLoginForceRevokesAfterSave(t *testing.T) {
	s, f := signedInByPassword(t)

	out, err := newLogin(f).Do(context.Background(), LoginInput{Flow: FlowPassword})
	if err != nil || !out.AlreadySignedIn || len(f.auth.revoked) != 0 {
		t.Fatalf("without --force: %+v %v revoked %v", out.AlreadySignedIn, err, f.auth.revoked)
	}
	out, err = newLogin(f).Do(context.Background(), LoginInput{Flow: FlowPassword, Force: true})
	if err != nil || out.AlreadySignedIn {
		t.Fatalf("with --force: %v %v", out.AlreadySignedIn, err)
	}
	if got := f.store.sessions[s.SessionKey()].Refresh.Reveal(); got != "rt-1" {
		t.Fatalf("stored refresh %s", got)
	}
	if len(f.auth.revoked) != 1 || f.auth.revoked[0] != "refresh_token:rt-old" {
		t.Fatalf("revoked %v", f.auth.revoked)
	}
}

func TestLogout(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	now := f.clock.Now()
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	out, err := NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{})
	if err != nil || len(out.Results) != 1 {
		t.Fatal(out, err)
	}
	if got := strings.Join(f.auth.revoked, ","); got != "refresh_token:rt-old,access_token:at-old" {
		t.Fatalf("revoked in order %s", got)
	}
	if len(f.store.sessions) != 0 {
		t.Fatal("session not deleted")
	}

	// A failed revocation is a warning; the session is deleted anyway, and
	// the tokens are kept as a pending revocation (SPEC §3.2).
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	f.auth.failNext = domain.E(domain.KindUnreachable, "refused", "")
	out, err = NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{})
	if err != nil || len(out.Results[0].Warnings) == 0 || len(f.store.sessions) != 1 || strings.Join(out.Results[0].Pending, ",") != "refresh_token,access_token" {
		t.Fatalf("out %+v err %v sessions %d", out, err, len(f.store.sessions))
	}
	for k, p := range f.store.sessions {
		if !k.IsPendingRevocation() || k.PendingProfile() != s.SessionKey().Profile || p.Refresh.Reveal() != "rt-old" {
			t.Fatalf("kept %v", k)
		}
	}
	// The next logout that reaches the Authority revokes them.
	f.auth.revoked, f.auth.failNext = nil, nil
	if _, err := NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.auth.revoked, ","); got != "refresh_token:rt-old,access_token:at-old" || len(f.store.sessions) != 0 {
		t.Fatalf("retried %s, %d left", got, len(f.store.sessions))
	}

	// An Authority that does not revoke access tokens (RFC 7009
	// unsupported_token_type) says so once: a warning, and nothing is kept
	// to ask again.
	f.auth.revoked, f.auth.notRevocable = nil, "access_token"
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	out, err = NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{})
	if err != nil || len(out.Results[0].Pending) != 0 || len(f.store.sessions) != 0 ||
		strings.Join(f.auth.revoked, ",") != "refresh_token:rt-old" || !strings.Contains(strings.Join(out.Results[0].Warnings, "\n"), "does not revoke access tokens") {
		t.Fatalf("out %+v err %v sessions %d revoked %v", out, err, len(f.store.sessions), f.auth.revoked)
	}
	f.auth.notRevocable = ""

	// --force keeps nothing, pending revocations included.
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	f.auth.failNext = domain.E(domain.KindUnreachable, "refused", "")
	if _, err := NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{}); err != nil || len(f.store.sessions) != 1 {
		t.Fatal(err, len(f.store.sessions))
	}

	// --force: no network.
	f.auth.failNext = nil
	f.auth.revoked = nil
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	if _, err := NewLogout(s, f.store, f.auth, nil, f.clock, discardLog()).Do(context.Background(), LogoutInput{Force: true}); err != nil {
		t.Fatal(err)
	}
	if len(f.auth.revoked) != 0 || len(f.store.sessions) != 0 {
		t.Fatalf("revoked %v, sessions %d", f.auth.revoked, len(f.store.sessions))
	}
}

// otherAuthorities hands out the Authority of each other profile, or an
// error for a profile that no longer names its session's Authority.
type otherAuthorities map[string]*fakeAuthority

func (o otherAuthorities) AuthorityFor(_ context.Context, key domain.SessionKey) (ports.Authority, error) {
	if a, ok := o[key.Profile]; ok {
		return a, nil
	}
	return nil, domain.E(domain.KindUsage, "the profile now names another Authority", "")
}

// --all revokes every session's tokens, each at its own profile's
// Authority; a session whose profile cannot be reached any more is still
// deleted, with a warning.
func TestLogoutAll(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	now := f.clock.Now()
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(time.Hour))
	ci, gone := s, s
	ci.Profile, gone.Profile = "ci", "gone"
	for _, p := range []domain.Settings{ci, gone} {
		sess := userSession(p, now, now.Add(time.Hour))
		f.store.sessions[p.SessionKey()] = sess
	}
	ciAuthority := &fakeAuthority{clock: f.clock}
	out, err := NewLogout(s, f.store, f.auth, otherAuthorities{"ci": ciAuthority}, f.clock, discardLog()).Do(context.Background(), LogoutInput{All: true})
	if err != nil || len(out.Results) != 3 {
		t.Fatalf("out %+v, err %v", out, err)
	}
	if len(f.auth.revoked) != 2 || len(ciAuthority.revoked) != 2 {
		t.Errorf("revoked at this profile's Authority %v, at ci's %v; want both tokens at each", f.auth.revoked, ciAuthority.revoked)
	}
	for _, r := range out.Results {
		if r.Key.Profile == "gone" && (len(r.Revoked) != 0 || len(r.Warnings) != 1) {
			t.Errorf("gone: %+v, want no revocation and one warning", r)
		}
	}
	if len(f.store.sessions) != 0 {
		t.Errorf("%d sessions left", len(f.store.sessions))
	}
}

func TestStatus(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	now := f.clock.Now()
	st := NewStatus(s, f.store, f.clock)

	if _, err := st.Do(context.Background(), StatusInput{}); domain.KindOf(err) != domain.KindLoginRequired {
		t.Fatalf("no session: %v", err)
	}
	f.store.sessions[s.SessionKey()] = userSession(s, now.Add(-time.Hour), now.Add(-3*time.Minute))
	out, err := st.Do(context.Background(), StatusInput{})
	if err != nil || out.Sessions[0].ExpiryWords != "expired 3 min ago" || !out.Sessions[0].Usable {
		t.Fatalf("expired but refreshable: %+v %v", out.Sessions, err)
	}
	sess := userSession(s, now.Add(-time.Hour), now.Add(-3*time.Minute))
	sess.Refresh = domain.Secret{}
	f.store.sessions[s.SessionKey()] = sess
	if _, err := st.Do(context.Background(), StatusInput{}); domain.KindOf(err) != domain.KindLoginRequired {
		t.Fatalf("expired, not refreshable: %v", err)
	}
	f.store.sessions[s.SessionKey()] = userSession(s, now, now.Add(59*time.Minute+30*time.Second))
	out, err = st.Do(context.Background(), StatusInput{})
	if err != nil || out.Sessions[0].ExpiryWords != "expires in 59 min" {
		t.Fatalf("%+v %v", out.Sessions, err)
	}
}

// fakeBackend answers with a fixed response.
type fakeBackend struct {
	status int
	header http.Header
	body   string
}

func (b fakeBackend) Do(context.Context, ports.BackendRequest) (ports.BackendResponse, error) {
	h := b.header
	if h == nil {
		h = http.Header{}
	}
	return ports.BackendResponse{Status: b.status, Header: h, Body: io.NopCloser(strings.NewReader(b.body))}, nil
}

func TestAPIErrorMapping(t *testing.T) {
	problem := http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"req-42"}}
	cases := []struct {
		name    string
		resp    fakeBackend
		kind    domain.Kind
		message string
		hint    string
	}{
		{"ok", fakeBackend{status: 200, body: `{"ok":true}`}, noErr, "", ""},
		{"401 after retry", fakeBackend{status: 401, header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}}, domain.KindUnauthorized, "401", "stella auth login --force"},
		{"403 names the scope from WWW-Authenticate", fakeBackend{status: 403, header: http.Header{"Www-Authenticate": {`Bearer error="insufficient_scope", scope="packs.run"`}}},
			domain.KindForbidden, "missing scope packs.run", "--force --scope "},
		{"403 names the scope from the problem", fakeBackend{status: 403, header: problem, body: `{"title":"Forbidden","requiredScope":"packs.approve"}`},
			domain.KindForbidden, "missing scope packs.approve", "packs.approve"},
		{"409 conflict", fakeBackend{status: 409, header: problem, body: `{"title":"Plan changed","detail":"the plan hash differs"}`}, domain.KindConflict, "Plan changed: the plan hash differs", ""},
		{"412", fakeBackend{status: 412}, domain.KindConflict, "412", ""},
		{"500 with request id", fakeBackend{status: 500, header: problem, body: `{"title":"Boom","detail":"db down"}`}, domain.KindServer, "(request id req-42)", ""},
		{"503 html", fakeBackend{status: 503, body: "<html>oops</html>"}, domain.KindServer, "503 Service Unavailable", ""},
		{"404", fakeBackend{status: 404}, domain.KindUsage, "404 Not Found", "relative to the backend URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := NewAPI(testSettings(), tc.resp, newTM(t, testSettings()).tm).Do(context.Background(), APIInput{Method: "get", Path: "/api/v1/x?secret=1", Out: &out})
			if tc.kind == noErr {
				if err != nil || out.String() != tc.resp.body {
					t.Fatalf("err %v out %q", err, out.String())
				}
				return
			}
			if domain.KindOf(err) != tc.kind {
				t.Fatalf("kind %v (%v), want %v", domain.KindOf(err), err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.message) || !strings.Contains(domain.HintFor(err), tc.hint) {
				t.Fatalf("message %q hint %q", err.Error(), domain.HintFor(err))
			}
			if strings.Contains(err.Error(), "secret=1") {
				t.Fatal("the query string was echoed")
			}
			if out.Len() != 0 {
				t.Fatal("an error body reached stdout")
			}
		})
	}
}

// In DPoP mode a sign-in makes a key, the session keeps it with its
// thumbprint, and refreshes are made with that same key.
func TestDPoPKeyPerSession(t *testing.T) {
	s := testSettings()
	s.AuthMode = domain.AuthModeDPoP
	s.Username, s.Password = "operator", domain.NewSecret("operator")
	f := newTM(t, s)
	out, err := newLogin(f).Do(context.Background(), LoginInput{Flow: FlowPassword})
	if err != nil {
		t.Fatal(err)
	}
	if out.Session.DPoPKey.Reveal() != "key-1" || out.Session.Constraint.JKT != "jkt-1" || out.Session.Constraint.Mode != domain.AuthModeDPoP ||
		f.auth.lastReq.DPoPKey.Reveal() != "key-1" {
		t.Fatalf("session %+v, request key %q", out.Session.Constraint, f.auth.lastReq.DPoPKey.Reveal())
	}
	f.clock.Add(2 * time.Hour)
	if _, err := f.tm.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.auth.lastReq.DPoPKey.Reveal() != "key-1" || f.store.sessions[s.SessionKey()].DPoPKey.Reveal() != "key-1" {
		t.Fatal("the refresh used or stored another key")
	}
}

// scriptedDevice answers polls from a script and records the waits.
type scriptedDevice struct {
	answers []error
	polls   int
}

func (d *scriptedDevice) AuthorizationURL(context.Context, ports.AuthorizationRequest) (string, error) {
	return "", nil
}
func (d *scriptedDevice) ExchangeCode(context.Context, ports.TokenRequest, domain.Secret, domain.Secret, string, string) (domain.Grant, error) {
	return domain.Grant{}, nil
}
func (d *scriptedDevice) CheckIssuer(context.Context, string, bool) error { return nil }
func (d *scriptedDevice) StartDevice(context.Context, ports.TokenRequest) (ports.DeviceAuthorization, error) {
	return ports.DeviceAuthorization{DeviceCode: domain.NewSecret("dc"), UserCode: "ABCDEFGH", VerificationURI: "https://a/device",
		ExpiresIn: 10 * time.Minute, Interval: 2 * time.Second}, nil
}
func (d *scriptedDevice) PollDevice(context.Context, ports.TokenRequest, domain.Secret) (domain.Grant, error) {
	err := d.answers[d.polls]
	d.polls++
	if err != nil {
		return domain.Grant{}, err
	}
	return domain.Grant{Access: domain.Token{Value: domain.NewSecret("at"), Type: domain.TokenTypeBearer}}, nil
}

// fakeSleeper advances the fake clock instead of sleeping.
type fakeSleeper struct {
	clock *fakeClock
	waits []time.Duration
}

func (s *fakeSleeper) Sleep(_ context.Context, d time.Duration) error {
	s.waits = append(s.waits, d)
	s.clock.Add(d)
	return nil
}

func TestDeviceFlowPolling(t *testing.T) {
	pending := fmt.Errorf("x: %w", ports.ErrAuthorizationPending)
	slow := fmt.Errorf("x: %w", ports.ErrSlowDown)
	cases := []struct {
		name    string
		answers []error
		waits   string
		kind    domain.Kind
	}{
		{"pending then approved", []error{pending, pending, nil}, "[2s 2s 2s]", 0},
		{"slow_down adds 5 s", []error{pending, slow, pending, nil}, "[2s 2s 7s 7s]", 0},
		{"denied", []error{pending, domain.E(domain.KindAccessDenied, "denied", "")}, "[2s 2s]", domain.KindAccessDenied},
		{"expired", []error{domain.E(domain.KindTimeout, "expired", "")}, "[2s]", domain.KindTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			s.AuthMode, s.WaitTimeout = domain.AuthModeBearer, 5*time.Minute
			f := newTM(t, s)
			dev := &scriptedDevice{answers: tc.answers}
			sleeper := &fakeSleeper{clock: f.clock}
			l := NewLogin(s, f.store, &fakeLocker{}, f.auth, f.tm,
				Interactive{Authority: dev, Browser: noBrowser{}, Console: quietConsole{}, Sleeper: sleeper}, f.clock, discardLog())
			_, err := l.Do(context.Background(), LoginInput{Flow: FlowDevice})
			if domain.KindOf(err) != tc.kind && !(tc.kind == 0 && err == nil) {
				t.Fatalf("err %v", err)
			}
			if got := fmt.Sprint(sleeper.waits); got != tc.waits {
				t.Fatalf("waits %s, want %s", got, tc.waits)
			}
		})
	}
}

func TestGroupUserCode(t *testing.T) {
	for in, want := range map[domain.Untrusted]string{"ABCDEFGH": "ABCD-EFGH", "ABCD-EFGH": "ABCD-EFGH", "123456": "123456",
		"AB\u202eCDEFGH": `AB\u202eCDEFGH`, // the Authority's text, shown as escapes and not grouped
	} {
		if got := GroupUserCode(in); got != want {
			t.Errorf("%s → %s", in, got)
		}
	}
}

// Following the missing-scope hint never drops a scope: it asks for what
// the session holds plus what the call needs, once each, shell-quoted.
func TestMissingScopeHint(t *testing.T) {
	person := testSettings()
	person.ClientSecret = domain.Secret{}
	person.Scopes = nil
	env := person
	env.Scopes = domain.Scopes{"packs.read", "packs.run"}
	cases := []struct {
		name string
		s    domain.Settings
		held domain.Scopes
		need domain.Scopes
		want string
	}{
		{"defaults kept", person, domain.PersonScopes, domain.Scopes{"packs.read"}, "--scope 'offline_access openid packs.read profile'`"},
		{"held scope kept", person, domain.Scopes{"offline_access", "openid", "packs.read"}, domain.Scopes{"packs.run"},
			"--scope 'offline_access openid packs.read packs.run'`"},
		{"no duplicate", env, nil, domain.Scopes{"packs.run"}, "--scope 'packs.read packs.run'`"},
		{"unknown session: person defaults", person, nil, domain.Scopes{"packs.run"}, "--scope 'offline_access openid packs.run profile'`"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := missingScopeHint(tc.s, tc.held, tc.need); !strings.Contains(got, tc.want) {
				t.Fatalf("hint %q, want %q in it", got, tc.want)
			}
		})
	}
}

// A valid session that lacks a scope the configuration now asks for is
// not "already signed in": the next call would be a 403.
func TestLoginSignsInAgainForMissingScope(t *testing.T) {
	s, f := signedInByPassword(t)
	s.AddScopes = domain.Scopes{"packs.run"}
	f.tm.settings = s
	l := newLogin(f)
	l.settings = s
	out, err := l.Do(context.Background(), LoginInput{Flow: FlowPassword})
	if err != nil || out.AlreadySignedIn {
		t.Fatalf("already signed in %v, err %v", out.AlreadySignedIn, err)
	}
	if got := f.auth.lastReq.Scopes.String(); got != "packs.read packs.run" {
		t.Fatalf("asked for %q", got)
	}
}

// unreadableStore holds a session it cannot open, as a file store with the
// wrong passphrase does.
type unreadableStore struct{ *fakeStore }

func (unreadableStore) Load(context.Context, domain.SessionKey) (domain.Session, error) {
	return domain.Session{}, domain.E(domain.KindStorage, "cannot decrypt the session", "Fix the passphrase.")
}

// noErr is "no error" in tables of wanted kinds.
const noErr domain.Kind = -1

func TestStatusStates(t *testing.T) {
	ci := testSettings()
	ci.ClientSecret = domain.NewSecret("s")
	ci.Effective = []domain.Setting{{Key: "Authority.ClientSecret", Source: domain.Source{Kind: domain.SourceEnv, Detail: "STELLA_CLIENT_SECRET"}}}
	cases := []struct {
		name     string
		s        domain.Settings
		store    ports.SessionStore
		want     StatusState
		wantKind domain.Kind
	}{
		{"no session, no credentials", testSettings(), newStore(), StateNone, domain.KindLoginRequired},
		{"no session, client credentials", ci, newStore(), StateReady, noErr},
		{"unreadable", testSettings(), unreadableStore{newStore()}, StateUnreadable, domain.KindStorage},
		{"unreadable beats ready", ci, unreadableStore{newStore()}, StateUnreadable, domain.KindStorage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := NewStatus(c.s, c.store, newClock()).Do(context.Background(), StatusInput{})
			if out.State != c.want || (c.wantKind == noErr && err != nil) || (c.wantKind != noErr && domain.KindOf(err) != c.wantKind) {
				t.Fatalf("state %q, err %v; want %q, kind %q", out.State, err, c.want, c.wantKind)
			}
			if c.want == StateReady && (out.Ready == nil || out.Ready.SecretSource != "STELLA_CLIENT_SECRET" || out.Ready.ClientID != c.s.ClientID) {
				t.Fatalf("ready: %+v", out.Ready)
			}
			if c.want == StateUnreadable && (len(out.Sessions) != 1 || out.Sessions[0].Error == nil) {
				t.Fatalf("the unreadable session is not listed: %+v", out.Sessions)
			}
		})
	}
}
