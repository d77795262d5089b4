package domain

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// maxJWTSize bounds what is decoded; real access tokens are a few KB.
const maxJWTSize = 64 << 10

// PeekJWTClaims decodes the payload of a compact JWS without verifying it.
// It is for display and for checks the Authority's signature cannot replace
// (cnf binding); it reports false for anything that is not a three-part
// JWS with a JSON object payload, which is normal for opaque tokens.
func PeekJWTClaims(token string) (map[string]any, bool) {
	if len(token) > maxJWTSize {
		return nil, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[1] == "" {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil || claims == nil || d.More() {
		return nil, false
	}
	return claims, true
}

// ClaimString returns a string claim, or "".
func ClaimString(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

// ClaimUntrusted returns a string claim as the Authority's text, or "".
func ClaimUntrusted(c map[string]any, name string) Untrusted { return Untrusted(ClaimString(c, name)) }

// ClaimTime returns a NumericDate claim (RFC 7519 §2), or the zero time.
func ClaimTime(c map[string]any, name string) time.Time {
	var f float64
	switch v := c[name].(type) {
	case json.Number:
		var err error
		if f, err = v.Float64(); err != nil {
			return time.Time{}
		}
	case float64:
		f = v
	default:
		return time.Time{}
	}
	if f <= 0 || f > 1e11 { // beyond year 5138: not a real date
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// ClaimAudience returns "aud" as a list whether it was a string or an array.
func ClaimAudience(c map[string]any) []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ClaimCnf returns a member of the "cnf" claim (RFC 7800), e.g. "jkt".
func ClaimCnf(c map[string]any, member string) string {
	cnf, _ := c["cnf"].(map[string]any)
	s, _ := cnf[member].(string)
	return s
}

// IdentityFromClaims reads the identity members stella shows.
func IdentityFromClaims(c map[string]any) Identity {
	id := Identity{Subject: ClaimUntrusted(c, "sub"), Name: ClaimUntrusted(c, "name"), Tenant: ClaimUntrusted(c, "tenant"),
		Email: ClaimUntrusted(c, "email")}
	if id.Name == "" {
		id.Name = ClaimUntrusted(c, "preferred_username")
	}
	return id
}

// JWTClaims peeks at the claims of a JWT held as a secret. The claims are
// not the credential — the signed whole is — so they may be shown.
func (s Secret) JWTClaims() (map[string]any, bool) { return PeekJWTClaims(s.v) }
