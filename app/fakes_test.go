package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeStore is an in-memory store that can be told to fail saves and
// records the order of operations. It passes the store contract
// (TestFakeStoreContract): a use case tested against it meets no store
// kinder than the real ones.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[domain.SessionKey]domain.Session
	failSave error
	log      []string
}

func newStore() *fakeStore { return &fakeStore{sessions: map[domain.SessionKey]domain.Session{}} }

func (s *fakeStore) Load(_ context.Context, k domain.SessionKey) (domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.sessions[k]
	if !ok {
		return domain.Session{}, fmt.Errorf("load %s: %w", k.ID(), domain.ErrNotFound)
	}
	return v, nil
}

func (s *fakeStore) Save(_ context.Context, v domain.Session) error {
	if err := v.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failSave != nil {
		return s.failSave
	}
	s.sessions[v.Key] = v
	s.log = append(s.log, "save:"+v.Access.Value.Reveal())
	return nil
}

func (s *fakeStore) Delete(_ context.Context, k domain.SessionKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, k)
	s.log = append(s.log, "delete")
	return nil
}

func (s *fakeStore) List(context.Context) ([]domain.SessionKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []domain.SessionKey
	for k := range s.sessions {
		keys = append(keys, k)
	}
	return keys, nil
}

func (s *fakeStore) Info() ports.StoreInfo {
	return ports.StoreInfo{Kind: domain.StorageMemory, Label: "fake"}
}

// fakeLocker is an in-process lock that, like the real ones, stops waiting
// when ctx ends. It then answers with its own error (the lock was not had
// in time), as a locker may: a use case whose own ctx ended must report the
// interruption, not the lock.
type fakeLocker struct {
	once sync.Once
	slot chan struct{}
}

func (l *fakeLocker) Lock(ctx context.Context, _ domain.SessionKey) (func(), error) {
	l.once.Do(func() { l.slot = make(chan struct{}, 1) })
	select {
	case l.slot <- struct{}{}:
		return func() { <-l.slot }, nil
	case <-ctx.Done():
		return nil, domain.E(domain.KindStorage, "the session lock was not free in time", "")
	}
}

// fakeAuthority issues numbered tokens and counts grants.
type fakeAuthority struct {
	clock    *fakeClock
	ttl      time.Duration
	mu       sync.Mutex
	n        int
	refresh  atomic.Int32
	cc       atomic.Int32
	revoked  []string
	failNext error
	// notRevocable is the token type Revoke answers ports.ErrNotRevocable.
	notRevocable string
	rotate       bool
	onGrant      func() // called inside every grant, e.g. to inspect the store
	lastReq      ports.TokenRequest
}

func (a *fakeAuthority) grant(withRefresh bool) domain.Grant {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	now := a.clock.Now()
	g := domain.Grant{Access: domain.Token{Value: domain.NewSecret(fmt.Sprintf("at-%d", a.n)), Type: domain.TokenTypeBearer,
		IssuedAt: now, Expiry: now.Add(a.ttl), Scopes: domain.Scopes{"packs.read"}}}
	if withRefresh {
		g.Refresh = domain.NewSecret(fmt.Sprintf("rt-%d", a.n))
	}
	return g
}

func (a *fakeAuthority) takeFailure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.failNext
	a.failNext = nil
	return err
}

func (a *fakeAuthority) Discover(context.Context) (ports.Discovery, error) {
	return ports.Discovery{}, nil
}

func (a *fakeAuthority) ClientCredentials(_ context.Context, req ports.TokenRequest) (domain.Grant, error) {
	a.cc.Add(1)
	a.mu.Lock()
	a.lastReq = req
	a.mu.Unlock()
	if err := a.takeFailure(); err != nil {
		return domain.Grant{}, err
	}
	return a.grant(false), nil
}

func (a *fakeAuthority) Password(_ context.Context, req ports.TokenRequest, _ string, _ domain.Secret) (domain.Grant, error) {
	a.mu.Lock()
	a.lastReq = req
	a.mu.Unlock()
	if err := a.takeFailure(); err != nil {
		return domain.Grant{}, err
	}
	return a.grant(true), nil
}

func (a *fakeAuthority) Refresh(_ context.Context, req ports.TokenRequest, rt domain.Secret) (domain.Grant, error) {
	a.refresh.Add(1)
	a.mu.Lock()
	a.lastReq = req
	a.mu.Unlock()
	if a.onGrant != nil {
		a.onGrant()
	}
	if err := a.takeFailure(); err != nil {
		return domain.Grant{}, err
	}
	return a.grant(a.rotate), nil
}

func (a *fakeAuthority) Revoke(_ context.Context, t domain.Secret, hint string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failNext != nil {
		return false, a.failNext
	}
	if hint == a.notRevocable {
		return false, ports.ErrNotRevocable
	}
	a.revoked = append(a.revoked, hint+":"+t.Reveal())
	return true, nil
}

func (a *fakeAuthority) UserInfo(context.Context, domain.Credential) (map[string]any, error) {
	return nil, errors.New("no userinfo")
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testSettings() domain.Settings {
	return domain.Settings{AuthorityURL: "https://authority.example.com", ClientID: "stella-cli",
		AuthMode: domain.AuthModeBearer, Scopes: domain.Scopes{"packs.read"}, BackendURL: "https://backend.example.com"}
}

// userSession is a stored session with a refresh token, expiring at exp.
func userSession(s domain.Settings, issued, exp time.Time) domain.Session {
	return domain.Session{
		Key: s.SessionKey(), Grant: domain.GrantPassword,
		Access:     domain.Token{Value: domain.NewSecret("at-old"), Type: domain.TokenTypeBearer, IssuedAt: issued, Expiry: exp, Scopes: s.ConfiguredScopes()},
		Refresh:    domain.NewSecret("rt-old"),
		Identity:   domain.Identity{Subject: "operator"},
		Constraint: domain.SenderConstraint{Mode: domain.AuthModeBearer},
	}
}

// fakeProver hands out numbered keys.
type fakeProver struct {
	mu sync.Mutex
	n  int
}

func (p *fakeProver) NewKey() (domain.Secret, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	return domain.NewSecret(fmt.Sprintf("key-%d", p.n)), fmt.Sprintf("jkt-%d", p.n), nil
}

func (p *fakeProver) Thumbprint(k domain.Secret) (string, error) {
	return "jkt-" + strings.TrimPrefix(k.Reveal(), "key-"), nil
}
