package domain

import (
	"strings"
	"time"
)

// pendingPrefix marks the key of a pending revocation: tokens that logout
// could not revoke (the Authority was down), kept sealed like a session so
// that a later command reaching that Authority can revoke them (SPEC §3.2).
// ':' is never part of a profile name, so no session is taken for one.
const pendingPrefix = "revoke:"

// MaxPendingAge is how long a pending revocation is kept: past it the
// tokens have expired at any realistic Authority, and retrying is noise.
const MaxPendingAge = 30 * 24 * time.Hour

// PendingRevocationKey is where the unrevoked tokens of the session at k
// are kept; stamp (unique per logout) keeps each logout's leftovers apart,
// so signing in and out again never overwrites tokens still to revoke.
func (k SessionKey) PendingRevocationKey(stamp string) SessionKey {
	return SessionKey{Profile: pendingPrefix + k.Profile + ":" + stamp, Issuer: k.Issuer, ClientID: k.ClientID}
}

// IsPendingRevocation reports whether k holds a pending revocation rather
// than a session.
func (k SessionKey) IsPendingRevocation() bool { return strings.HasPrefix(k.Profile, pendingPrefix) }

// PendingProfile is the profile whose session a pending revocation came
// from.
func (k SessionKey) PendingProfile() string {
	p, _, _ := strings.Cut(strings.TrimPrefix(k.Profile, pendingPrefix), ":")
	return p
}

// PendingTokens lists what a pending revocation still has to revoke, in
// the order it is revoked (the refresh token first: it is the long-lived
// one). An access token that has expired needs no revocation.
func (s Session) PendingTokens(now time.Time) []string {
	var out []string
	if !s.Refresh.IsZero() {
		out = append(out, "refresh_token")
	}
	if !s.Access.Value.IsZero() && !s.Access.Expired(now) {
		out = append(out, "access_token")
	}
	return out
}

// PendingExpired reports whether a pending revocation is past keeping:
// nothing left to revoke, or older than MaxPendingAge.
func (s Session) PendingExpired(now time.Time) bool {
	return len(s.PendingTokens(now)) == 0 || now.Sub(s.Created) > MaxPendingAge
}
