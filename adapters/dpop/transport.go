package dpop

import (
	"bytes"
	"io"
	"net/http"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxPeek bounds how much of an error answer is read to spot a nonce
// challenge; the bytes are handed on to the caller untouched.
const maxPeek = 64 << 10

// Wrap returns a transport that adds a DPoP proof to every request made
// with key (and, for resource requests, the access token's hash), sends the
// server's latest nonce proactively, and answers one use_dpop_nonce
// challenge per request with exactly one retry — never a loop.
func (p *Prover) Wrap(base http.RoundTripper, nonces ports.NonceMemory, key, access domain.Secret) http.RoundTripper {
	return &proofTransport{p: p, base: base, nonces: nonces, key: key, access: access}
}

type proofTransport struct {
	p      *Prover
	base   http.RoundTripper
	nonces ports.NonceMemory
	key    domain.Secret
	access domain.Secret
}

func (t *proofTransport) send(req *http.Request, body io.ReadCloser, nonce string) (*http.Response, error) {
	proof, err := t.p.Proof(t.key, req.Method, req.URL.String(), nonce, t.access)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = body
	out.Header.Set("DPoP", proof.Reveal())
	resp, err := t.base.RoundTrip(out)
	if err == nil {
		t.nonces.Put(req.URL.String(), resp.Header.Get("DPoP-Nonce"))
	}
	return resp, err
}

// RoundTrip sends req with a proof.
func (t *proofTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.send(req, req.Body, t.nonces.Get(req.URL.String()))
	if err != nil || !isNonceChallenge(resp) {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil
	}
	nonce := resp.Header.Get("DPoP-Nonce")
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	_ = resp.Body.Close()
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(req, body, nonce)
}

// isNonceChallenge recognises both forms of RFC 9449's nonce request: an
// Authority's 400 use_dpop_nonce error (§8) and a resource server's 401
// with a DPoP challenge (§9). Either must carry the new nonce. The body is
// read, then restored for the caller.
func isNonceChallenge(resp *http.Response) bool {
	if resp.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, c := range domain.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate")) {
			if c.Param("error") == "use_dpop_nonce" {
				return true
			}
		}
	case http.StatusBadRequest:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		e, ok := domain.ParseOAuthError(b)
		return ok && e.Code == "use_dpop_nonce"
	}
	return false
}
