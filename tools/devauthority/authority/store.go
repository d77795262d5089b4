package authority

import (
	"sync"
	"time"
)

// grantRecord is what a token family was issued for.
type grantRecord struct {
	clientID string
	subject  string
	scopes   []string
	user     bool
	approval map[string]string // pack_run_id, pack_gate_id, pack_plan_hash
	x5t      string            // RFC 8705 certificate binding
}

// family groups the tokens descended from one sign-in, so that reuse of a
// rotated refresh token can revoke all of them (OAuth 2.1 §6.1).
type family struct {
	id        string
	grant     grantRecord
	jkt       string // the DPoP key a public client's refresh tokens are bound to
	revoked   bool
	refreshed bool // at least one refresh happened (for the refresh-sub fault)
}

type refreshToken struct {
	value   string
	family  *family
	expires time.Time
	used    bool
	revoked bool
}

type accessToken struct {
	jti     string
	value   string
	family  *family // nil for client-credentials tokens
	expires time.Time
	revoked bool
}

type tokenStore struct {
	mu      sync.Mutex
	refresh map[string]*refreshToken
	access  map[string]*accessToken // by jti
	other   []string                // ID tokens: not usable as credentials here, but secrets all the same
}

func (t *tokenStore) addOther(v string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.other = append(t.other, v)
}

func newTokenStore() *tokenStore {
	return &tokenStore{refresh: map[string]*refreshToken{}, access: map[string]*accessToken{}}
}

func (t *tokenStore) all() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.other...)
	for v := range t.refresh {
		out = append(out, v)
	}
	for _, a := range t.access {
		out = append(out, a.value)
	}
	return out
}

func (t *tokenStore) addAccess(a *accessToken) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.access[a.jti] = a
}

func (t *tokenStore) addRefresh(r *refreshToken) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refresh[r.value] = r
}

// accessValid reports whether an access token (by jti) is known and live.
func (t *tokenStore) accessValid(jti string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.access[jti]
	return ok && !a.revoked && (a.family == nil || !a.family.revoked) && now.Before(a.expires)
}

func (t *tokenStore) revokeFamily(f *family) {
	f.revoked = true
	for _, r := range t.refresh {
		if r.family == f {
			r.revoked = true
		}
	}
	for _, a := range t.access {
		if a.family == f {
			a.revoked = true
		}
	}
}

func (t *tokenStore) revokeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.refresh {
		r.revoked = true
		r.family.revoked = true
	}
	for _, a := range t.access {
		a.revoked = true
	}
}

// consume marks a refresh token used, as a rotation would, without issuing
// its successor (the nonce-after-refresh quirk).
func (t *tokenStore) consume(value string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if rt, ok := t.refresh[value]; ok {
		rt.used = true
	}
}
