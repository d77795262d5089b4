package domain

import (
	"strings"
	"time"
)

// Token types as they appear in Authorization headers. Servers may answer
// token_type in any case (RFC 6749 §5.1 says it is case-insensitive), so
// NormalizeTokenType is applied to everything read from the wire.
const (
	TokenTypeBearer = "Bearer"
	TokenTypeDPoP   = "DPoP"
)

// NormalizeTokenType maps a token_type to its canonical spelling; an empty
// value defaults to Bearer and unknown types are returned unchanged.
func NormalizeTokenType(t string) string {
	switch {
	case t == "", strings.EqualFold(t, TokenTypeBearer):
		return TokenTypeBearer
	case strings.EqualFold(t, TokenTypeDPoP):
		return TokenTypeDPoP
	}
	return t
}

// Token is an access token and what the client knows about it.
type Token struct {
	Value    Secret
	Type     string    // Bearer or DPoP
	IssuedAt time.Time // when the client received it
	Expiry   time.Time // zero when the server gave no lifetime
	Scopes   Scopes
}

// Refresh policy (SPEC §5): refresh when the token expires within
// max(30 s, 10 % of its lifetime), but never earlier than half its
// lifetime. Without that bound a token that lives less than 30 s is due the
// moment it is issued, and every process that takes the lock after the
// first one renews it again: N processes, N refreshes (a refresh storm).
const minRefreshLead = 30 * time.Second

// lifetime is how long the token lives, zero when unknown.
func (t Token) lifetime() time.Duration {
	if t.IssuedAt.IsZero() || t.Expiry.IsZero() || !t.Expiry.After(t.IssuedAt) {
		return 0
	}
	return t.Expiry.Sub(t.IssuedAt)
}

// RefreshLead is how long before expiry the token is renewed.
func (t Token) RefreshLead() time.Duration {
	lead := minRefreshLead
	life := t.lifetime()
	if tenth := life / 10; tenth > lead {
		lead = tenth
	}
	if half := life / 2; life > 0 && lead > half {
		lead = half
	}
	return lead
}

// DueForRefresh reports whether the token should be renewed before use at
// now, given a caller's minimum remaining lifetime (zero for none). A token
// without a known expiry is never due: a 401 will tell. A minimum that no
// token of this lifetime could meet (minTTL ≥ lifetime) is bounded by half
// the lifetime too: renewing cannot satisfy it, only storm.
func (t Token) DueForRefresh(now time.Time, minTTL time.Duration) bool {
	if t.Value.IsZero() {
		return true
	}
	if t.Expiry.IsZero() {
		return false
	}
	lead := t.RefreshLead()
	if life := t.lifetime(); minTTL > lead && (life == 0 || minTTL < life) {
		lead = minTTL
	}
	return !now.Add(lead).Before(t.Expiry)
}

// Expired reports whether the token can no longer be used at now.
func (t Token) Expired(now time.Time) bool {
	return !t.Expiry.IsZero() && !now.Before(t.Expiry)
}

// Remaining is the lifetime left at now (negative once expired, zero when
// unknown).
func (t Token) Remaining(now time.Time) time.Duration {
	if t.Expiry.IsZero() {
		return 0
	}
	return t.Expiry.Sub(now)
}

// Credential is what a caller needs to present a token: the token, what it
// is bound to, and the proof key of a DPoP binding.
type Credential struct {
	Access     Token
	Constraint SenderConstraint
	DPoPKey    Secret
}
