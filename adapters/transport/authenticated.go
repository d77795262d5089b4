package transport

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Authenticated attaches a valid token to every request and, on a 401,
// renews the token once and retries once (SPEC §3.6). It is the only place
// a token meets a backend request.
type Authenticated struct {
	base   ports.HTTPBase
	tokens ports.TokenSource
	creds  ports.CredentialHeaders
	nonces ports.NonceMemory // to notice a backend's new nonce; nil: none kept
	log    *slog.Logger
}

// NewAuthenticated wraps the base transport; it does no I/O.
func NewAuthenticated(base ports.HTTPBase, tokens ports.TokenSource, creds ports.CredentialHeaders, nonces ports.NonceMemory, log *slog.Logger) *Authenticated {
	return &Authenticated{base: base, tokens: tokens, creds: creds, nonces: nonces, log: log}
}

// RoundTrip sends req with credentials; req is not modified.
func (a *Authenticated) RoundTrip(req *http.Request) (*http.Response, error) {
	return a.roundTripWith(req, nil)
}

// roundTripWith uses fixed instead of the session's token when it is set;
// a fixed token is not renewed on a 401.
func (a *Authenticated) roundTripWith(req *http.Request, fixed *domain.Credential) (*http.Response, error) {
	ctx := req.Context()
	if fixed != nil {
		return a.send(req, *fixed)
	}
	cred, err := a.tokens.Credential(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	before := ""
	if a.nonces != nil {
		before = a.nonces.Get(req.URL.String())
	}
	resp, err := a.send(req, cred)
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		a.keepNonces(ctx, req, before)
	}
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil // the body cannot be sent twice; report the 401 as is
	}
	drain(resp)
	a.log.Debug("backend answered 401; renewing the token once", "url", logTarget(req.URL))
	cred, err = a.tokens.Renew(ctx, cred)
	if err != nil {
		return nil, err
	}
	retry := req.Clone(ctx)
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	resp, err = a.send(retry, cred)
	if err == nil {
		a.keepNonces(ctx, req, before)
	}
	return resp, err
}

// keepNonces asks the token source to keep a backend's new DPoP nonce with
// the session, so the next process sends it on its first request.
func (a *Authenticated) keepNonces(ctx context.Context, req *http.Request, before string) {
	if a.nonces == nil || a.nonces.Get(req.URL.String()) == before {
		return
	}
	if k, ok := a.tokens.(ports.NonceKeeper); ok {
		k.KeepNonces(ctx)
	}
}

// send presents cred on req (the credential headers' transport: the
// Authorization scheme, a DPoP proof per request and its nonce challenge).
func (a *Authenticated) send(req *http.Request, cred domain.Credential) (*http.Response, error) {
	return a.creds.Transport(a.base, cred).RoundTrip(req)
}

// drain reads a little of a discarded body so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
