package authority

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// sign makes a compact JWS of claims with the server's key.
func (s *Server) sign(claims map[string]any, typ string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	opts = opts.WithHeader("kid", s.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, opts)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// verify checks an access token as a resource server must: signature with
// our key, typ at+jwt, issuer, audience, time window with a small leeway.
func (s *Server) verifyAccess(raw string, now time.Time) (map[string]any, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, errors.New("not a signed JWT")
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("unexpected signatures")
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders["typ"].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, errors.New("not an access token")
	}
	payload, err := jws.Verify(&s.key.PublicKey)
	if err != nil {
		return nil, errors.New("bad signature")
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errors.New("bad claims")
	}
	if c["iss"] != s.advertisedIssuer() {
		return nil, errors.New("wrong issuer")
	}
	if c["aud"] != s.URL() {
		return nil, errors.New("wrong audience")
	}
	const leeway = 5
	exp, _ := c["exp"].(float64)
	nbf, _ := c["nbf"].(float64)
	if float64(now.Unix()) >= exp+leeway {
		return nil, errors.New("expired")
	}
	if float64(now.Unix())+leeway < nbf {
		return nil, errors.New("not yet valid")
	}
	return c, nil
}
