package app

import (
	"context"
	"testing"
	"time"

	"github.com/stellaops/stella/domain"
)

// fakeCert is a client certificate with a thumbprint that changes when it
// is rotated.
type fakeCert struct {
	x5t string
	err error
}

func (c *fakeCert) Thumbprint() (string, error) { return c.x5t, c.err }

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

// In mTLS mode a configuration without its certificate is a usage error
// (2) before anything else, signed in or not: not "not signed in" (12),
// and no grant is sent.
func TestMTLSWithoutCertificate(t *testing.T) {
	s := testSettings()
	s.AuthMode = domain.AuthModeMTLS
	missing := domain.E(domain.KindUsage, "AuthMode mtls needs a client certificate and key", "Set ClientCertFile and ClientKeyFile.")
	for _, stored := range []bool{false, true} {
		c := newClock()
		auth := &fakeAuthority{clock: c, ttl: time.Hour}
		store := newStore()
		if stored {
			v := userSession(s, c.Now().Add(-2*time.Hour), c.Now().Add(-time.Hour))
			v.Constraint = domain.SenderConstraint{Mode: domain.AuthModeMTLS, X5tS256: "old-cert"}
			store.sessions[s.SessionKey()] = v
		}
		tm := NewTokenManager(s, store, &fakeLocker{}, auth, &fakeProver{}, nil, &fakeCert{err: missing}, c, discardLog())
		_, err := tm.Credential(context.Background())
		if domain.KindOf(err) != domain.KindUsage || auth.refresh.Load()+auth.cc.Load() != 0 {
			t.Fatalf("stored %v: err = %v, grants %d", stored, err, auth.refresh.Load()+auth.cc.Load())
		}
	}
}
