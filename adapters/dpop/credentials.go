package dpop

import (
	"fmt"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Credentials builds the headers that present a credential on a request
// (ports.CredentialHeaders). It is the one place stella writes
// Authorization and DPoP, for the backend transport, the stream, userinfo,
// token requests and `auth header` alike; it lives here because the only
// part of it that is not a string is the proof.
type Credentials struct {
	prover *Prover
	nonces ports.NonceMemory // nil: no nonce is sent or kept
}

// NewCredentials returns the header builder over the process's nonce
// memory; it does no work.
func NewCredentials(p *Prover, nonces ports.NonceMemory) *Credentials {
	return &Credentials{prover: p, nonces: nonces}
}

var _ ports.CredentialHeaders = (*Credentials)(nil)

// Headers are the headers for one request of method to target, with the
// latest nonce known for target's server (its endpoint, else its origin).
func (c *Credentials) Headers(cred domain.Credential, method, target string) ([]ports.CredentialHeader, error) {
	return c.headers(cred, method, target, c.nonce(target))
}

// headers is Headers with the nonce chosen by the caller: the transport
// answers a challenge with the nonce the challenge carried.
func (c *Credentials) headers(cred domain.Credential, method, target, nonce string) ([]ports.CredentialHeader, error) {
	access := cred.Access.Value
	switch {
	case access.IsZero() && cred.DPoPKey.IsZero():
		return nil, nil // a token request in bearer or mTLS mode
	case access.IsZero():
		// A token request in DPoP mode: the proof alone, without ath
		// (RFC 9449 §4.2); the client authenticates in the form or Basic.
		proof, err := c.prover.Proof(cred.DPoPKey, method, target, nonce, domain.Secret{})
		if err != nil {
			return nil, err
		}
		return []ports.CredentialHeader{{Name: "DPoP", Value: proof}}, nil
	case cred.Access.Type == domain.TokenTypeBearer:
		return []ports.CredentialHeader{{Name: "Authorization", Value: domain.NewSecret("Bearer " + access.Reveal())}}, nil
	case cred.Access.Type == domain.TokenTypeDPoP:
		// RFC 9449 §7.1: the DPoP scheme, and a proof per request that
		// carries the token's hash.
		proof, err := c.prover.Proof(cred.DPoPKey, method, target, nonce, access)
		if err != nil {
			return nil, err
		}
		return []ports.CredentialHeader{{Name: "Authorization", Value: domain.NewSecret("DPoP " + access.Reveal())}, {Name: "DPoP", Value: proof}}, nil
	}
	// RFC 6749 §7.1: a client must not use a token type it does not
	// understand (the Authority adapter never stores one; a hand-edited
	// session could hold one).
	return nil, domain.ESignIn(domain.KindProtocol, fmt.Sprintf("the session's token type %q is not supported", domain.Printable(cred.Access.Type, 40)),
		domain.SignInHint{Before: "Sign in again with ", Flags: " --force", After: "."})
}

func (c *Credentials) nonce(target string) string {
	if c.nonces == nil {
		return ""
	}
	return c.nonces.Get(target)
}

func (c *Credentials) keepNonce(target, nonce string) {
	if c.nonces != nil {
		c.nonces.Put(target, nonce)
	}
}
