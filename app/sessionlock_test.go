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
