package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

// anotherProcess is a locker that, when this process takes the lock, lets
// "another process" replace the stored session first: as if it had
// renewed it while this one waited.
type anotherProcess struct {
	fakeLocker
	store *fakeStore
	next  domain.Session
	done  bool
}

func (l *anotherProcess) Lock(ctx context.Context, k domain.SessionKey) (func(), error) {
	if !l.done {
		l.done = true
		l.store.mu.Lock()
		l.store.sessions[k] = l.next
		l.store.mu.Unlock()
	}
	return l.fakeLocker.Lock(ctx, k)
}

// SPEC §5: a waiter uses the token another process renewed meanwhile, even
// when that 4-second token is already past half its life — instead of
// renewing again (the refresh storm of issue #15).
func TestWaiterUsesTokenRenewedMeanwhile(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-5*time.Second), now.Add(-time.Second)) // expired
	renewed := userSession(f.s, now.Add(-3*time.Second), now.Add(time.Second))                            // 4 s, 3 s old
	renewed.Access.Value, renewed.Refresh = domain.NewSecret("at-other"), domain.NewSecret("rt-other")
	f.tm.locker = &anotherProcess{store: f.store, next: renewed}
	cred, err := f.tm.Credential(context.Background())
	if err != nil || cred.Access.Value.Reveal() != "at-other" || f.auth.refresh.Load() != 0 {
		t.Fatalf("cred %v err %v refreshes %d; want the other process's token and no refresh", cred.Access.Value.Reveal(), err, f.auth.refresh.Load())
	}
}

// reservingStore refuses the reservation, as a full disk does.
type reservingStore struct {
	*fakeStore
	err      error
	reserved int
}

func (r *reservingStore) Reserve(context.Context, domain.SessionKey) (func(), error) {
	r.reserved++
	if r.err != nil {
		return nil, r.err
	}
	return func() {}, nil
}

// SPEC §5: space for the renewed session is reserved before a refresh
// that may rotate the refresh token; when it cannot be, nothing is sent.
func TestReserveBeforeRefresh(t *testing.T) {
	full := domain.E(domain.KindStorage, "no space left", "")
	for _, tc := range []struct {
		name      string
		remaining time.Duration
		err       error
		ok        bool        // no error
		wantKind  domain.Kind // when not ok
		refreshed int32
	}{
		{"space: the refresh goes out", -time.Minute, nil, true, 0, 1},
		{"full disk, expired: 18, nothing sent", -time.Minute, full, false, domain.KindStorage, 0},
		{"full disk, still valid: the cached token", 2 * time.Minute, full, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTM(t, testSettings())
			now := f.clock.Now()
			f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour+tc.remaining), now.Add(tc.remaining))
			rs := &reservingStore{fakeStore: f.store, err: tc.err}
			f.tm.store = rs
			cred, err := f.tm.CredentialFor(context.Background(), 5*time.Minute)
			if (tc.ok != (err == nil)) || (!tc.ok && domain.KindOf(err) != tc.wantKind) || f.auth.refresh.Load() != tc.refreshed || rs.reserved != 1 {
				t.Fatalf("err %v, refreshes %d, reservations %d", err, f.auth.refresh.Load(), rs.reserved)
			}
			if tc.name == "full disk, still valid: the cached token" && cred.Access.Value.Reveal() != "at-old" {
				t.Fatalf("got %s", cred.Access.Value.Reveal())
			}
		})
	}
}

// A renewal that reached the Authority retries the pending revocations
// kept for it (SPEC §3.2), once per process; others' are left alone.
func TestRenewalRetriesPendingRevocations(t *testing.T) {
	f := newTM(t, testSettings())
	now := f.clock.Now()
	f.store.sessions[f.s.SessionKey()] = userSession(f.s, now.Add(-time.Hour), now.Add(-time.Minute))
	left := userSession(f.s, now.Add(-time.Hour), now.Add(time.Hour))
	left.Access.Value, left.Refresh = domain.NewSecret("at-left"), domain.NewSecret("rt-left")
	p := pendingRevocations{store: f.store, clock: f.clock, log: discardLog()}
	if err := p.keep(context.Background(), left, []string{"refresh_token", "access_token"}); err != nil {
		t.Fatal(err)
	}
	other := left
	other.Key.Issuer = "https://elsewhere.example"
	if err := p.keep(context.Background(), other, []string{"refresh_token"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tm.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.auth.revoked, ","); got != "refresh_token:rt-left,access_token:at-left" {
		t.Fatalf("revoked %s", got)
	}
	n := 0
	for k := range f.store.sessions {
		if k.IsPendingRevocation() {
			n++
			if k.Issuer != "https://elsewhere.example" {
				t.Fatalf("left %v", k)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d pending left, want the other Authority's only", n)
	}
}
