package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// A use case waiting for the session lock that another process holds stops
// when its context ends (Ctrl-C, SIGTERM), says it was interrupted (130),
// not that the lock failed, and sends nothing to the Authority.
func TestLockWaitHonoursCancellation(t *testing.T) {
	cases := []struct {
		name string
		run  func(ctx context.Context, f *tmFixture, l *fakeLocker) error
	}{
		{"refresh", func(ctx context.Context, f *tmFixture, _ *fakeLocker) error {
			_, err := f.tm.Credential(ctx)
			return err
		}},
		{"renew a rejected token", func(ctx context.Context, f *tmFixture, _ *fakeLocker) error {
			_, err := f.tm.Renew(ctx, credentialOf(f.store.sessions[f.s.SessionKey()]))
			return err
		}},
		{"down-scoped token", func(ctx context.Context, f *tmFixture, _ *fakeLocker) error {
			_, err := f.tm.DownScoped(ctx, ports.TokenRequest{Scopes: domain.Scopes{"packs.approve"}})
			return err
		}},
		{"sign-in", func(ctx context.Context, f *tmFixture, l *fakeLocker) error {
			login := NewLogin(f.s, f.store, l, f.auth, f.tm, Interactive{Browser: noBrowser{}, Console: quietConsole{}}, f.clock, discardLog())
			_, err := login.Do(ctx, LoginInput{Flow: FlowPassword, Force: true})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			s.Username, s.Password = "operator", domain.NewSecret("operator")
			c := newClock()
			l := &fakeLocker{}
			f := &tmFixture{clock: c, store: newStore(), auth: &fakeAuthority{clock: c, ttl: time.Hour, rotate: true}, s: s}
			f.tm = NewTokenManager(s, f.store, l, f.auth, &fakeProver{}, nil, nil, c, discardLog())
			now := c.Now()
			f.store.sessions[s.SessionKey()] = userSession(s, now.Add(-2*time.Hour), now.Add(-time.Hour))
			unlock, err := l.Lock(context.Background(), s.SessionKey()) // another process
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err = tc.run(ctx, f, l)
			if !errors.Is(err, context.Canceled) || domain.ExitCodeFor(err) != 130 {
				t.Fatalf("err = %v (exit %d), want the interruption (130)", err, domain.ExitCodeFor(err))
			}
			if n := f.auth.refresh.Load() + f.auth.cc.Load(); n != 0 || f.auth.n != 0 {
				t.Fatalf("%d grants went out while the lock was held", f.auth.n)
			}
		})
	}
}

// The lock is released when the work under it ends, whatever the result.
func TestWithSessionLockReleases(t *testing.T) {
	l := &fakeLocker{}
	key := testSettings().SessionKey()
	boom := errors.New("boom")
	for _, want := range []error{nil, boom} {
		_, err := withSessionLock(context.Background(), l, key, time.Second, func() (int, error) { return 1, want })
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("err = %v, want %v", err, want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		unlock, err := l.Lock(ctx, key)
		cancel()
		if err != nil {
			t.Fatalf("the lock was kept: %v", err)
		}
		unlock()
	}
}

// fakeCert is a client certificate with a thumbprint that changes when it
// is rotated.
type fakeCert struct{ x5t string }

func (c *fakeCert) Thumbprint() (string, error) { return c.x5t, nil }

// Which key a renewal proves with (RFC 9449 §5): a refresh of a DPoP-bound
// session with the session's own key, and no key is made for it; a new
// client-credentials grant keeps the session's key, or makes the first one;
// mTLS names the certificate as it is now.
func TestRenewalBinding(t *testing.T) {
	bound := func(s domain.Settings, grant string, refresh bool) func(time.Time) domain.Session {
		return func(now time.Time) domain.Session {
			v := userSession(s, now.Add(-2*time.Hour), now.Add(-time.Hour))
			v.Grant = grant
			if !refresh {
				v.Refresh = domain.Secret{}
			}
			v.Constraint = domain.SenderConstraint{Mode: s.AuthMode}
			switch s.AuthMode {
			case domain.AuthModeDPoP:
				v.DPoPKey, v.Constraint.JKT = domain.NewSecret("key-7"), "jkt-7"
			case domain.AuthModeMTLS:
				v.Constraint.X5tS256 = "old-cert"
			}
			return v
		}
	}
	settings := func(mode domain.AuthMode, secret bool) domain.Settings {
		s := testSettings()
		s.AuthMode = mode
		if secret {
			s.ClientSecret = domain.NewSecret("x")
		}
		return s
	}
	dpop, dpopCI := settings(domain.AuthModeDPoP, false), settings(domain.AuthModeDPoP, true)
	mtlsCI := settings(domain.AuthModeMTLS, true)
	cases := []struct {
		name     string
		s        domain.Settings
		stored   func(time.Time) domain.Session // nil: none
		wantKey  string                         // the key the grant was proven with
		wantJKT  string
		wantX5t  string
		keysMade int
	}{
		{"refresh of a DPoP session", dpop, bound(dpop, domain.GrantPassword, true), "key-7", "jkt-7", "", 0},
		{"client credentials again keep the key", dpopCI, bound(dpopCI, domain.GrantClientCredentials, false), "key-7", "jkt-7", "", 0},
		{"first client credentials make a key", dpopCI, nil, "key-1", "jkt-1", "", 1},
		{"mTLS client credentials name the certificate now", mtlsCI, bound(mtlsCI, domain.GrantClientCredentials, false), "", "", "new-cert", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			prover := &fakeProver{}
			auth := &fakeAuthority{clock: c, ttl: time.Hour, rotate: true}
			store := newStore()
			if tc.stored != nil {
				store.sessions[tc.s.SessionKey()] = tc.stored(c.Now())
			}
			tm := NewTokenManager(tc.s, store, &fakeLocker{}, auth, prover, nil, &fakeCert{x5t: "new-cert"}, c, discardLog())
			cred, err := tm.Credential(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			saved := store.sessions[tc.s.SessionKey()]
			if got := auth.lastReq.DPoPKey.Reveal(); got != tc.wantKey || prover.n != tc.keysMade {
				t.Fatalf("proven with %q, %d key(s) made; want %q, %d", got, prover.n, tc.wantKey, tc.keysMade)
			}
			if saved.DPoPKey.Reveal() != tc.wantKey || saved.Constraint.JKT != tc.wantJKT || saved.Constraint.X5tS256 != tc.wantX5t ||
				cred.DPoPKey.Reveal() != tc.wantKey {
				t.Fatalf("saved binding %+v key %q", saved.Constraint, saved.DPoPKey.Reveal())
			}
		})
	}
}
