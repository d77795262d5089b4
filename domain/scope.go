package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Scopes is a set of OAuth scope tokens, kept sorted and unique so two sets
// compare and print the same way whatever order a server used.
type Scopes []string

// ParseScopes reads a space-separated scope string (RFC 6749 §3.3). Each
// token must be printable ASCII without '"' or '\'; anything else is a
// usage error rather than something to send to a server.
func ParseScopes(s string) (Scopes, error) {
	var out Scopes
	for _, tok := range strings.Fields(s) {
		for _, r := range tok {
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return nil, E(KindUsage, fmt.Sprintf("scope %q contains a character OAuth does not allow", tok),
					"Use space-separated scope names such as \"packs.read packs.run\".")
			}
		}
		out = append(out, tok)
	}
	return out.normal(), nil
}

func (s Scopes) normal() Scopes {
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// String joins the scopes with single spaces, as they travel on the wire.
func (s Scopes) String() string { return strings.Join(s, " ") }

// Has reports whether scope is in the set.
func (s Scopes) Has(scope string) bool { return slices.Contains(s, scope) }

// Missing lists the members of want that s lacks.
func (s Scopes) Missing(want Scopes) Scopes {
	var m Scopes
	for _, w := range want {
		if !s.Has(w) {
			m = append(m, w)
		}
	}
	return m
}

// Union is s and more, sorted and unique.
func (s Scopes) Union(more ...Scopes) Scopes {
	u := slices.Clone(s)
	for _, m := range more {
		u = append(u, m...)
	}
	return u.normal()
}

// PersonScopes is the default scope set of a person's sign-in (SPEC §2):
// an ID token, the profile claims and a refresh token, so a session
// outlives its first access token.
var PersonScopes = Scopes{"offline_access", "openid", "profile"}

// ParseUntrustedScopes reads scopes a server named (a problem document's
// requiredScope, a challenge's scope). The scope-token grammar admits no
// control, space, quote or backslash, so what it returns is stella's to
// print and to quote into a hint.
func ParseUntrustedScopes(u Untrusted) (Scopes, error) { return ParseScopes(string(u)) }
