package dpop

import (
	"bytes"
	"io"
	"net/http"

	"github.com/stellaops/stella/domain"
)

// maxPeek bounds how much of an error answer is read to spot a nonce
// challenge; the bytes are handed on to the caller untouched.
const maxPeek = 64 << 10

// Transport returns a transport that sends every request with cred's
// headers (Headers), made afresh for each request and its URL; with a
// DPoP proof it also sends the server's latest nonce proactively, keeps
// the nonce each answer carries, and answers one use_dpop_nonce challenge
// per request with exactly one retry — never a loop.
func (c *Credentials) Transport(base http.RoundTripper, cred domain.Credential) http.RoundTripper {
	proves := !cred.DPoPKey.IsZero() && (cred.Access.Value.IsZero() || cred.Access.Type == domain.TokenTypeDPoP)
	return &credentialTransport{c: c, base: base, cred: cred, proves: proves}
}

type credentialTransport struct {
	c      *Credentials
	base   http.RoundTripper
	cred   domain.Credential
	proves bool // the headers carry a DPoP proof, so nonces matter
}

// send sends req once; a retry carries a fresh copy of the body.
func (t *credentialTransport) send(req *http.Request, retry bool, body io.ReadCloser, nonce string) (*http.Response, error) {
	target := req.URL.String()
	hs, err := t.c.headers(t.cred, req.Method, target, nonce)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		return nil, err
	}
	out := req
	if len(hs) > 0 || retry {
		out = req.Clone(req.Context())
		out.Body = body
		for _, h := range hs {
			out.Header.Set(h.Name, h.Value.Reveal())
		}
	}
	resp, err := t.base.RoundTrip(out)
	if err == nil && t.proves {
		t.c.keepNonce(target, resp.Header.Get("DPoP-Nonce"))
	}
	return resp, err
}

// RoundTrip sends req with its credential; req is not modified.
func (t *credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	nonce := ""
	if t.proves {
		nonce = t.c.nonce(req.URL.String())
	}
	resp, err := t.send(req, false, req.Body, nonce)
	if err != nil || !t.proves || !isNonceChallenge(resp) {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil
	}
	nonce = resp.Header.Get("DPoP-Nonce")
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPeek))
	_ = resp.Body.Close()
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(req, true, body, nonce)
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
