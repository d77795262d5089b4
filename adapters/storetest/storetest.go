// Package storetest is the one contract suite every ports.SessionStore
// passes: the memory store, the encrypted file store and the keychain run
// the same cases, so they cannot drift apart.
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

// Session returns a complete session for key, with an access token of
// about size bytes (long JWTs are what real Authorities send).
func Session(key domain.SessionKey, size int, n int) domain.Session {
	at := fmt.Sprintf("at-%d-", n) + strings.Repeat("a", max(0, size-10))
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return domain.Session{
		Key:   key,
		Grant: domain.GrantPassword,
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

// Run runs the contract against stores made by newStore.
func Run(t *testing.T, name string, newStore func(t *testing.T) ports.SessionStore) {
	ctx := context.Background()
	key := domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}
	t.Run(name+"/not-found", func(t *testing.T) {
		_, err := newStore(t).Load(ctx, key)
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	for _, size := range []int{2 << 10, 16 << 10, 64 << 10} {
		t.Run(fmt.Sprintf("%s/round-trip-%dKB", name, size>>10), func(t *testing.T) {
			s := newStore(t)
			want := Session(key, size, 1)
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
			if err := s.Save(ctx, Session(key, 100, i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Load(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, Session(key, 100, 2))
	})
	t.Run(name+"/keys-isolated-delete-list", func(t *testing.T) {
		s := newStore(t)
		keys := []domain.SessionKey{key,
			{Profile: "default", Issuer: "https://other.example.com", ClientID: "stella-cli"},
			{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-ci"},
			{Profile: "packs-approver", Issuer: "https://authority.example.com", ClientID: "stella-cli"}}
		for i, k := range keys {
			if err := s.Save(ctx, Session(k, 100, i)); err != nil {
				t.Fatal(err)
			}
		}
		for i, k := range keys {
			got, err := s.Load(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, Session(k, 100, i))
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
	})
	t.Run(name+"/concurrent", func(t *testing.T) {
		s := newStore(t)
		if err := s.Save(ctx, Session(key, 1000, 0)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := range 50 {
			wg.Add(2)
			go func() { defer wg.Done(); errs <- s.Save(ctx, Session(key, 1000, i)) }()
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
