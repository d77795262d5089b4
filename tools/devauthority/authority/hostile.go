package authority

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ID-token faults for relying-party tests, modelled on the OpenID
// Foundation's RP conformance plan (-id-token-fault NAME). The development
// Authority is otherwise correct; these make it lie in one precise way.
var idTokenFaults = map[string]string{
	"alg-none":     "an unsigned ID token (alg none)",
	"bad-sig":      "an ID token whose signature does not verify",
	"wrong-iss":    "an ID token from another issuer",
	"wrong-aud":    "an ID token for another client",
	"no-sub":       "an ID token without sub",
	"no-iat":       "an ID token without iat",
	"expired":      "an expired ID token",
	"wrong-nonce":  "an ID token with another nonce",
	"rotated-key":  "an ID token signed with a new key (new kid) that JWKS also lists: must be accepted",
	"authz-iss":    "an authorization response whose iss is another issuer (RFC 9207)",
	"refresh-sub":  "a refreshed ID token naming another subject",
	"userinfo-sub": "a userinfo answer for another subject",
	"no-id-token":  "no ID token although openid was granted, and an access token whose name claim differs from userinfo's",
	"no-identity":  "no-id-token, and a userinfo endpoint that fails (503): nothing verified says who signed in",
}

// withholdsIDToken reports the faults that grant openid without an ID token.
func (s *Server) withholdsIDToken() bool {
	return s.cfg.IDTokenFault == "no-id-token" || s.cfg.IDTokenFault == "no-identity"
}

// rotatedKey is the second signing key of the rotated-key fault.
type rotatedKey struct {
	key *rsa.PrivateKey
	kid string
}

func (s *Server) rotated() *rotatedKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rot == nil {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		s.rot = &rotatedKey{key: k, kid: "rotated-" + randomString(4)}
	}
	return s.rot
}

// idToken signs an ID token, applying the configured fault. refresh says
// it answers a refresh.
func (s *Server) idToken(claims map[string]any, refresh bool) (string, error) {
	switch s.cfg.IDTokenFault {
	case "wrong-iss":
		claims["iss"] = "https://impostor.example.com"
	case "wrong-aud":
		claims["aud"] = "someone-else"
	case "no-sub":
		delete(claims, "sub")
	case "no-iat":
		delete(claims, "iat")
	case "expired":
		claims["exp"] = s.cfg.Now().Add(-time.Hour).Unix()
		claims["iat"] = s.cfg.Now().Add(-2 * time.Hour).Unix()
	case "wrong-nonce":
		if _, ok := claims["nonce"]; ok {
			claims["nonce"] = "not-the-nonce"
		}
	case "refresh-sub":
		if refresh {
			claims["sub"] = "mallory"
		}
	case "alg-none":
		payload, _ := json.Marshal(claims)
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return h + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
	case "rotated-key":
		r := s.rotated()
		payload, _ := json.Marshal(claims)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: r.key},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", r.kid))
		if err != nil {
			return "", err
		}
		jws, err := signer.Sign(payload)
		if err != nil {
			return "", err
		}
		return jws.CompactSerialize()
	}
	tok, err := s.sign(claims, "JWT")
	if err != nil || s.cfg.IDTokenFault != "bad-sig" {
		return tok, err
	}
	// Flip the signature's first character.
	i := strings.LastIndexByte(tok, '.') + 1
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:], nil
}

// jwksKeys lists the public keys; under rotated-key the new one too.
func (s *Server) jwksKeys() []jose.JSONWebKey {
	keys := []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: "RS256", Use: "sig"}}
	if s.cfg.IDTokenFault == "rotated-key" {
		r := s.rotated()
		keys = append(keys, jose.JSONWebKey{Key: &r.key.PublicKey, KeyID: r.kid, Algorithm: "RS256", Use: "sig"})
	}
	return keys
}
