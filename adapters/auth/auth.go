// Package auth is THE authentication adapter: it speaks OAuth 2.1 and
// OpenID Connect to the Authority with golang.org/x/oauth2 and
// coreos/go-oidc — discovery, client credentials, the legacy password
// grant, refresh, revocation (RFC 7009), userinfo and ID-token
// verification. Raw token types never leave this package: callers get
// domain.Grant, whose secrets cannot print themselves.
//
// One file per job, as kubelogin's pkg/oidc/client: discovery.go (once per
// process), request.go (what every token request shares), one file per
// grant (clientcredentials, password, refresh, authcode, devicecode),
// response.go (checking a token response), idtoken.go, errors.go (kinds
// and advice), revoke.go and userinfo.go.
package auth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// MaxResponseBody bounds every answer read from the Authority. Token
// responses with long JWTs are a few KB; discovery and JWKS documents tens.
const MaxResponseBody = 1 << 20

// Authority talks to one Authority for one client, as configured.
type Authority struct {
	settings domain.Settings
	base     ports.HTTPBase
	clock    ports.Clock
	log      *slog.Logger
	prover   ports.Prover
	creds    ports.CredentialHeaders
	cert     ports.ClientCertificate

	// discovered is the process's memory of discovery documents, shared
	// with every other Authority client of the same issuer.
	discovered *discoveries
	// httpClient is built on first use, once, whichever goroutine asks.
	httpClient func() *http.Client

	mu       sync.Mutex // guards provider
	provider *oidc.Provider
}

// New returns the adapter; it does no I/O (discovery happens on first use).
func New(s domain.Settings, base ports.HTTPBase, clock ports.Clock, log *slog.Logger, prover ports.Prover, creds ports.CredentialHeaders,
	cert ports.ClientCertificate) *Authority {
	a := &Authority{settings: s, base: base, clock: clock, log: log, prover: prover, creds: creds, cert: cert, discovered: processDiscoveries}
	// The client for every Authority request: bounded bodies, the request
	// timeout, and no redirects — a token request that is redirected
	// elsewhere must fail, not follow.
	a.httpClient = sync.OnceValue(func() *http.Client {
		return &http.Client{
			Transport: limitBody{a.base},
			Timeout:   a.settings.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	})
	return a
}

var (
	_ ports.Authority            = (*Authority)(nil)
	_ ports.InteractiveAuthority = (*Authority)(nil)
)

// clientFor is the client for requests that present cred: a token request
// in DPoP mode (a key, no token) carries a proof; userinfo carries the
// token in its scheme, with a proof when it is DPoP-bound.
func (a *Authority) clientFor(cred domain.Credential) *http.Client {
	base := a.httpClient()
	if cred.Access.Value.IsZero() && cred.DPoPKey.IsZero() {
		return base
	}
	c := *base
	c.Transport = a.creds.Transport(limitBody{a.base}, cred)
	return &c
}

// getJSON sends one GET that asks for JSON through client and reads the
// answer, which limitBody has already bounded. bad words a request that
// cannot even be built.
func (a *Authority) getJSON(ctx context.Context, client *http.Client, u string, bad func(error) error) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, bad(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, a.netErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, a.netErr(err)
	}
	return resp, body, nil
}

func (a *Authority) host() string {
	if u, err := url.Parse(a.settings.AuthorityURL); err == nil {
		return u.Host
	}
	return a.settings.AuthorityURL
}

// netErr classifies a transport failure, naming the Authority.
func (a *Authority) netErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return domain.ClassifyNetError(err, "the Authority", a.host())
}

// limitBody reads every Authority answer whole, up to MaxResponseBody,
// before handing it on. Authority answers are small, and reading here means
// an oversized body, a connection cut mid-body or a body that drips past
// the deadline is a typed error from the round trip itself: x/oauth2 reads
// bodies through its own 1 MiB limit and reports read errors as text, which
// would turn all three into "malformed JSON".
type limitBody struct{ rt http.RoundTripper }

var errTooLarge = domain.E(domain.KindProtocol, "the Authority's answer is larger than 1 MiB",
	"Check the Authority URL; no OAuth answer is that large.")

// errCut is a body that ended before its announced length.
var errCut = domain.E(domain.KindUnreachable, "the connection to the Authority was cut in the middle of its answer",
	"Try again; if it persists, check proxies and firewalls in between.")

func (l limitBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errCut
	case err != nil:
		return nil, err
	case int64(len(b)) > MaxResponseBody:
		return nil, errTooLarge
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// now is the receipt time of a response.
func (a *Authority) now() time.Time { return a.clock.Now() }
