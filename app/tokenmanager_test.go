package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

type tmFixture struct {
	clock *fakeClock
	store *fakeStore
	auth  *fakeAuthority
	s     domain.Settings
	tm    *TokenManager
}

func newTM(t *testing.T, s domain.Settings) *tmFixture {
	t.Helper()
	c := newClock()
	f := &tmFixture{clock: c, store: newStore(), auth: &fakeAuthority{clock: c, ttl: time.Hour, rotate: true}, s: s}
	f.tm = NewTokenManager(s, f.store, &fakeLocker{}, f.auth, &fakeProver{}, nil, nil, c, discardLog())
	return f
}

func TestCredentialRefreshPolicy(t *testing.T) {
	cases := []struct {
		name        string
		lifetime    time.Duration
		remaining   time.Duration
		minTTL      time.Duration
		wantRefresh bool
	}{
		{"fresh hour token", time.Hour, 50 * time.Minute, 0, false},
		{"hour token inside 10% lead", time.Hour, 5 * time.Minute, 0, true},
		{"hour token just outside lead", time.Hour, 6*time.Minute + time.Second, 0, false},
		{"short token inside 30s floor", 2 * time.Minute, 29 * time.Second, 0, true},
		{"short token outside floor", 2 * time.Minute, 31 * time.Second, 0, false},
		{"min-ttl asks for more", time.Hour, 10 * time.Minute, 15 * time.Minute, true},
		{"expired", time.Hour, -time.Minute, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTM(t, testSettings())
			now := f.clock.Now()
			exp := now.Add(tc.remaining)
			f.store.sessions[f.s.SessionKey()] = userSession(f.s, exp.Add(-tc.lifetime), exp)
			cred, err := f.tm.CredentialFor(context.Background(), tc.minTTL)
			if err != nil {
				t.Fatal(err)
			}
			refreshed := f.auth.refresh.Load() == 1
			if refreshed != tc.wantRefresh {
				t.Fatalf("refreshed = %v, want %v", refreshed, tc.wantRefresh)
			}
			if tc.wantRefresh && cred.Access.Value.Reveal() != "at-1" {
				t.Fatalf("got %s, want the refreshed token", cred.Access.Value.Reveal())
			}
		})
	}
}

// The rotated refresh token is saved before the new access token is handed
// out, and a failed save is an error, never ignored.
func TestRefreshSavesBeforeUse(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Second))
	cred, err := f.tm.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stored := f.store.sessions[f.s.SessionKey()]
	if stored.Refresh.Reveal() != "rt-1" || cred.Access.Value.Reveal() != "at-1" || stored.Access.Value.Reveal() != "at-1" {
		t.Fatalf("stored %s/%s, handed out %s", stored.Access.Value.Reveal(), stored.Refresh.Reveal(), cred.Access.Value.Reveal())
	}

	g := newTM(t, testSettings())
	g.store.sessions[g.s.SessionKey()] = userSession(g.s, now.Add(-time.Hour), now.Add(-time.Second))
	g.store.failSave = domain.E(domain.KindStorage, "disk full", "")
	if _, err := g.tm.Credential(context.Background()); domain.KindOf(err) != domain.KindStorage {
		t.Fatalf("err = %v, want a storage error", err)
	}
}

// A response without a refresh token keeps the old one (RFC 6749 §6).
func TestRefreshWithoutRotationKeepsOldRefreshToken(t *testing.T) {
	f := newTM(t, testSettings())
	f.auth.rotate = false
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Second))
	if _, err := f.tm.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.store.sessions[f.s.SessionKey()].Refresh.Reveal(); got != "rt-old" {
		t.Fatalf("refresh token = %s, want rt-old kept", got)
	}
}

// 200 goroutines facing one expired token make exactly one refresh.
func TestSingleFlightInProcess(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Second))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cred, err := f.tm.Credential(context.Background())
			if err == nil && cred.Access.Value.Reveal() != "at-1" {
				err = errors.New("got " + cred.Access.Value.Reveal())
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.auth.refresh.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// Many requests that saw the same 401 cause one renewal.
func TestRenewOncePerRejectedToken(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now, now.Add(time.Hour))
	cred, err := f.tm.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.tm.Renew(context.Background(), cred); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.auth.refresh.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// Another process refreshed while we waited for the lock: use its result.
func TestRecheckAfterLock(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	key := f.s.SessionKey()
	f.store.sessions[key] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Second))
	// The "other process" saves a fresh session between our load and our
	// lock: simulate by swapping the store content in the lock.
	fresh := userSession(f.s, now, now.Add(time.Hour))
	fresh.Access.Value = domain.NewSecret("at-other")
	f.tm.locker = lockThen(func() { f.store.sessions[key] = fresh })
	cred, err := f.tm.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cred.Access.Value.Reveal() != "at-other" || f.auth.refresh.Load() != 0 {
		t.Fatalf("got %s after %d refreshes; want the other process's token and no refresh", cred.Access.Value.Reveal(), f.auth.refresh.Load())
	}
}

type lockThenFn func()

func lockThen(f func()) lockThenFn { return f }

func (f lockThenFn) Lock(context.Context, domain.SessionKey) (func(), error) {
	f()
	return func() {}, nil
}

func TestRenewalFailures(t *testing.T) {
	cases := []struct {
		name      string
		remaining time.Duration
		err       error
		wantKind  domain.Kind
		wantToken string
		deleted   bool
	}{
		{"invalid_grant ends the session", -time.Second, domain.E(domain.KindLoginRequired, "invalid_grant", ""), domain.KindLoginRequired, "", true},
		{"offline, token still valid: keep using it", 10 * time.Second, domain.E(domain.KindUnreachable, "refused", ""), noErr, "at-old", false},
		{"offline, token expired: 13 saying when", -3 * time.Minute, domain.E(domain.KindUnreachable, "refused", ""), domain.KindUnreachable, "", false},
		{"5xx, token expired: 14", -time.Second, domain.E(domain.KindServer, "503", ""), domain.KindServer, "", false},
		{"protocol violation passes through", -time.Second, domain.E(domain.KindProtocol, "bad", ""), domain.KindProtocol, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTM(t, testSettings())
			now := f.clock.Now()
			f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(tc.remaining))
			f.auth.failNext = tc.err
			cred, err := f.tm.Credential(context.Background())
			if tc.wantToken != "" {
				if err != nil || cred.Access.Value.Reveal() != tc.wantToken {
					t.Fatalf("got %v, %v; want %s", cred.Access.Value.Reveal(), err, tc.wantToken)
				}
				return
			}
			if domain.KindOf(err) != tc.wantKind {
				t.Fatalf("kind = %v (%v), want %v", domain.KindOf(err), err, tc.wantKind)
			}
			_, still := f.store.sessions[f.s.SessionKey()]
			if still == tc.deleted {
				t.Fatalf("session present = %v, want deleted = %v", still, tc.deleted)
			}
		})
	}
}

// With a client secret and no session, the TokenManager signs in by itself
// (the CI path), and repeats the grant when the token is due.
func TestClientCredentialsWithoutLogin(t *testing.T) {
	s := testSettings()
	s.ClientID, s.ClientSecret = "stella-ci", domain.NewSecret("stella-ci-secret")
	f := newTM(t, s)
	if _, err := f.tm.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.auth.cc.Load() != 1 || f.auth.lastReq.Scopes.String() != "packs.read" {
		t.Fatalf("cc grants %d, scopes %q", f.auth.cc.Load(), f.auth.lastReq.Scopes)
	}
	f.clock.Add(59*time.Minute + 31*time.Second)
	if _, err := f.tm.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.auth.cc.Load() != 2 {
		t.Fatalf("cc grants %d, want 2 after crossing the lead", f.auth.cc.Load())
	}
}

func TestNoSessionIsLoginRequired(t *testing.T) {
	f := newTM(t, testSettings())
	_, err := f.tm.Credential(context.Background())
	if domain.KindOf(err) != domain.KindLoginRequired || domain.HintFor(err) == "" {
		t.Fatalf("err = %v", err)
	}
}

func TestModeSwitchNeedsNewSignIn(t *testing.T) {
	s := testSettings()
	f := newTM(t, s)
	now := f.clock.Now()
	sess := userSession(s, now, now.Add(time.Hour))
	sess.Constraint = domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: "x"}
	sess.DPoPKey = domain.NewSecret("k")
	f.store.sessions[s.SessionKey()] = sess
	_, err := f.tm.Credential(context.Background())
	if domain.KindOf(err) != domain.KindLoginRequired {
		t.Fatalf("err = %v, want login required", err)
	}
}

// OIDC Core §12.2: a refresh whose ID token names another subject is a
// protocol violation and changes nothing.
func TestRefreshedIDTokenMustKeepTheSubject(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Second))
	f.tm.authority = subjectSwapper{f.auth}
	_, err := f.tm.Credential(context.Background())
	if domain.KindOf(err) != domain.KindProtocol {
		t.Fatalf("err = %v", err)
	}
	if got := f.store.sessions[f.s.SessionKey()].Access.Value.Reveal(); got != "at-old" {
		t.Fatalf("session changed to %s", got)
	}
}

type subjectSwapper struct{ *fakeAuthority }

func (s subjectSwapper) Refresh(ctx context.Context, req ports.TokenRequest, rt domain.Secret) (domain.Grant, error) {
	g, err := s.fakeAuthority.Refresh(ctx, req, rt)
	g.IDToken, g.Identity = domain.NewSecret("id"), domain.Identity{Subject: "mallory"}
	return g, err
}

// A cached client-credentials session that lacks a configured scope is
// replaced by one new grant per process, even when the Authority never
// grants the scope (no loop); one that holds every scope is used as is.
func TestClientCredentialsScopeChange(t *testing.T) {
	s := testSettings()
	s.ClientSecret = domain.NewSecret("secret")
	f := newTM(t, s)
	now := f.clock.Now()
	sess := userSession(s, now, now.Add(time.Hour))
	sess.Grant, sess.Refresh = domain.GrantClientCredentials, domain.Secret{}
	f.store.sessions[s.SessionKey()] = sess
	if _, err := f.tm.Credential(context.Background()); err != nil || f.auth.cc.Load() != 0 {
		t.Fatalf("nothing lacking: %v, %d grants", err, f.auth.cc.Load())
	}
	s.AddScopes = domain.Scopes{"packs.run"}
	tm := NewTokenManager(s, f.store, &fakeLocker{}, f.auth, &fakeProver{}, nil, nil, f.clock, discardLog())
	for i := 0; i < 3; i++ {
		if _, err := tm.Credential(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.auth.cc.Load(); n != 1 || f.auth.lastReq.Scopes.String() != "packs.read packs.run" {
		t.Fatalf("%d grants asking for %q; want 1 asking for both", n, f.auth.lastReq.Scopes.String())
	}
}
