package domain

import (
	"slices"
	"time"
)

// DPoPNonce is the latest DPoP-Nonce a server sent (RFC 9449 §8, §9), by
// origin (or by endpoint, origin and path, where an Authority and a
// resource server share an origin), and when it was first seen with that
// value. Sessions keep them
// (SPEC §5) so the next process sends the nonce on its first request
// instead of being refused once: a refused refresh request can cost a
// rotating refresh token at an Authority that consumes the token before
// it checks the nonce. A nonce is public (it travels in proofs), not a
// secret.
type DPoPNonce struct {
	Origin string    `json:"origin"`
	Value  string    `json:"value"`
	Seen   time.Time `json:"seen"`
}

// Bounds on what a session keeps: servers rotate nonces within minutes,
// so a nonce older than MaxNonceAge is not worth sending, and a session
// talks to a handful of servers.
const (
	MaxNonceAge   = time.Hour
	maxNonces     = 32
	MaxNonceBytes = 1024
)

// FreshNonces returns the nonces worth sending at now: not older than
// MaxNonceAge, not from the future beyond a little skew, usable values, at
// most one per origin (the newest) and at most maxNonces (the newest).
func FreshNonces(ns []DPoPNonce, now time.Time) []DPoPNonce {
	byOrigin := map[string]DPoPNonce{}
	for _, n := range ns {
		if n.Origin == "" || n.Value == "" || len(n.Value) > MaxNonceBytes || now.Sub(n.Seen) > MaxNonceAge || n.Seen.After(now.Add(time.Minute)) {
			continue
		}
		if cur, ok := byOrigin[n.Origin]; !ok || n.Seen.After(cur.Seen) {
			byOrigin[n.Origin] = n
		}
	}
	out := make([]DPoPNonce, 0, len(byOrigin))
	for _, n := range byOrigin {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b DPoPNonce) int { return b.Seen.Compare(a.Seen) })
	if len(out) > maxNonces {
		out = out[:maxNonces]
	}
	slices.SortFunc(out, func(a, b DPoPNonce) int {
		if a.Origin < b.Origin {
			return -1
		}
		if a.Origin > b.Origin {
			return 1
		}
		return 0
	})
	return out
}

// SameNonceValues reports whether a and b hold the same value for every
// origin, whatever their ages: only a new value is worth a save.
func SameNonceValues(a, b []DPoPNonce) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[string]string, len(a))
	for _, n := range a {
		m[n.Origin] = n.Value
	}
	for _, n := range b {
		if v, ok := m[n.Origin]; !ok || v != n.Value {
			return false
		}
	}
	return true
}
