// Package storetest is the one contract suite every ports.SessionStore
// passes: the memory store, the encrypted file store, the keychain, the
// fleet cache and the app's fakes run the same cases, so they cannot drift
// apart, and a fake cannot be kinder than the stores it stands for.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Key is the session the suite saves first; a store of one session
// (OneSession) must be made for it.
var Key = domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}

// Now is when the suite's sessions were issued: their access tokens are
// valid for an hour from it, so a store that drops due tokens (the fleet
// cache) must be given this clock.
var Now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// Session returns a complete session for key, with an access token of
// about size bytes (long JWTs are what real Authorities send).
func Session(key domain.SessionKey, size int, n int) domain.Session {
	return sessionOf(key, domain.GrantPassword, size, n)
}

func sessionOf(key domain.SessionKey, grant string, size int, n int) domain.Session {
	at := fmt.Sprintf("at-%d-", n) + strings.Repeat("a", max(0, size-10))
	now := Now
	return domain.Session{
		Key:   key,
		Grant: grant,
		Access: domain.Token{Value: domain.NewSecret(at), Type: domain.TokenTypeDPoP, IssuedAt: now,
			Expiry: now.Add(time.Hour), Scopes: domain.Scopes{"openid", "packs.read"}},
		Refresh:    domain.NewSecret(fmt.Sprintf("rt-%d", n)),
		IDToken:    domain.NewSecret("id.token.value"),
		Identity:   domain.Identity{Subject: "operator", Name: "Olivia Operator", Tenant: "acme", Email: "o@acme.example"},
		Constraint: domain.SenderConstraint{Mode: domain.AuthModeDPoP, JKT: "thumbprint"},
		DPoPKey:    domain.NewSecret(`{"kty":"EC","d":"private"}`),
		Created:    now,
		Claims:     map[string]any{"sub": "operator", "cnf": map[string]any{"jkt": "thumbprint"}, "n": float64(n)},
	}
}

// Option narrows the contract for a store that keeps less than every
// session.
type Option func(*contract)

type contract struct {
	grant string // the grant of the sessions saved
	one   bool   // the store keeps Key's session only
}

// OneSession is the contract of a store that keeps the session of one
// configuration only (the fleet cache shares one client's), of grant
// alone: the store must be made for Key, and other keys are never found.
func OneSession(grant string) Option {
	return func(c *contract) { c.grant, c.one = grant, true }
}

// Run runs the contract against stores made by newStore.
func Run(t *testing.T, name string, newStore func(t *testing.T) ports.SessionStore, opts ...Option) {
	c := contract{grant: domain.GrantPassword}
	for _, o := range opts {
		o(&c)
	}
	ctx := context.Background()
	key := Key
	session := func(k domain.SessionKey, size, n int) domain.Session { return sessionOf(k, c.grant, size, n) }
	t.Run(name+"/not-found", func(t *testing.T) {
		_, err := newStore(t).Load(ctx, key)
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run(name+"/refuses-invalid", func(t *testing.T) {
		// What cannot be used later is refused now, not stored: a session
		// without its token, without its DPoP key, or with half a key.
		s := newStore(t)
		noToken := session(key, 100, 1)
		noToken.Access.Value = domain.Secret{}
		lostKey := session(key, 100, 1)
		lostKey.DPoPKey = domain.Secret{}
		halfKey := session(key, 100, 1)
		halfKey.Key.ClientID = ""
		for what, bad := range map[string]domain.Session{"no access token": noToken, "DPoP key lost": lostKey, "incomplete key": halfKey} {
			if err := s.Save(ctx, bad); err == nil {
				t.Errorf("%s: saved", what)
			}
		}
		if _, err := s.Load(ctx, key); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("after refused saves: %v, want ErrNotFound", err)
		}
		if listed, err := s.List(ctx); err != nil || len(listed) != 0 {
			t.Fatalf("after refused saves, List = %v, %v", listed, err)
		}
	})
	for _, size := range []int{2 << 10, 16 << 10, 64 << 10} {
		t.Run(fmt.Sprintf("%s/round-trip-%dKB", name, size>>10), func(t *testing.T) {
			s := newStore(t)
			want := session(key, size, 1)
			if err := s.Save(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := s.Load(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, want)
		})
	}
	t.Run(name+"/overwrite", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			if err := s.Save(ctx, session(key, 100, i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Load(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, session(key, 100, 2))
	})
	if c.one {
		t.Run(name+"/one-session-delete-list", func(t *testing.T) { oneSession(t, newStore(t), session) })
	} else {
		t.Run(name+"/keys-isolated-delete-list", func(t *testing.T) { manySessions(t, newStore(t), session) })
	}
	t.Run(name+"/concurrent", func(t *testing.T) {
		s := newStore(t)
		if err := s.Save(ctx, session(key, 1000, 0)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := range 50 {
			wg.Add(2)
			go func() { defer wg.Done(); errs <- s.Save(ctx, session(key, 1000, i)) }()
			go func() {
				defer wg.Done()
				got, err := s.Load(ctx, key)
				if err == nil && got.Key != key {
					err = errors.New("torn read")
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
	})
}

// others are keys that differ from Key in one part each.
var others = []domain.SessionKey{
	{Profile: "default", Issuer: "https://other.example.com", ClientID: "stella-cli"},
	{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-ci"},
	{Profile: "packs-approver", Issuer: "https://authority.example.com", ClientID: "stella-cli"},
}

// manySessions: sessions of different keys are kept apart, listed, and
// deleted one by one.
func manySessions(t *testing.T, s ports.SessionStore, session func(domain.SessionKey, int, int) domain.Session) {
	ctx := context.Background()
	keys := append([]domain.SessionKey{Key}, others...)
	for i, k := range keys {
		if err := s.Save(ctx, session(k, 100, i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range keys {
		got, err := s.Load(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, session(k, 100, i))
	}
	listed, err := s.List(ctx)
	if err != nil || len(listed) != len(keys) {
		t.Fatalf("List = %v, %v", listed, err)
	}
	for _, k := range keys {
		found := false
		for _, l := range listed {
			found = found || l == k
		}
		if !found {
			t.Fatalf("List lacks %v", k)
		}
	}
	if err := s.Delete(ctx, keys[1]); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, keys[1]); err != nil {
		t.Fatalf("deleting a missing session: %v", err)
	}
	if _, err := s.Load(ctx, keys[1]); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.Load(ctx, keys[0]); err != nil {
		t.Fatalf("delete touched another key: %v", err)
	}
}

// oneSession: the store keeps Key's session and finds no other; deleting
// another key leaves it, deleting it twice is no error.
func oneSession(t *testing.T, s ports.SessionStore, session func(domain.SessionKey, int, int) domain.Session) {
	ctx := context.Background()
	if err := s.Save(ctx, session(Key, 100, 1)); err != nil {
		t.Fatal(err)
	}
	for _, k := range others {
		if _, err := s.Load(ctx, k); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("Load(%v) = %v, want ErrNotFound", k, err)
		}
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("deleting another key: %v", err)
		}
	}
	if listed, err := s.List(ctx); err != nil || len(listed) != 1 || listed[0] != Key {
		t.Fatalf("List = %v, %v; want [%v]", listed, err, Key)
	}
	got, err := s.Load(ctx, Key)
	if err != nil {
		t.Fatalf("deleting other keys touched the session: %v", err)
	}
	same(t, got, session(Key, 100, 1))
	for range 2 {
		if err := s.Delete(ctx, Key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Load(ctx, Key); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if listed, err := s.List(ctx); err != nil || len(listed) != 0 {
		t.Fatalf("after delete, List = %v, %v", listed, err)
	}
}

func same(t *testing.T, got, want domain.Session) {
	t.Helper()
	type flat struct {
		Key                                    domain.SessionKey
		Grant, Access, Type, Refresh, ID, Key2 string
		Issued, Expiry, Created                time.Time
		Scopes                                 string
		Identity                               domain.Identity
		Constraint                             domain.SenderConstraint
		Claims                                 string
	}
	f := func(s domain.Session) flat {
		return flat{s.Key, s.Grant, s.Access.Value.Reveal(), s.Access.Type, s.Refresh.Reveal(), s.IDToken.Reveal(), s.DPoPKey.Reveal(),
			s.Access.IssuedAt.UTC(), s.Access.Expiry.UTC(), s.Created.UTC(), s.Access.Scopes.String(), s.Identity, s.Constraint, fmt.Sprint(s.Claims)}
	}
	if g, w := f(got), f(want); g != w {
		t.Fatalf("round trip changed the session:\n got %+v\nwant %+v", g, w)
	}
}
