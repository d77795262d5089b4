// Package auth is THE authentication adapter: it speaks OAuth 2.1 and
// OpenID Connect to the Authority with golang.org/x/oauth2 and
// coreos/go-oidc — discovery, client credentials, the legacy password
// grant, refresh, revocation (RFC 7009), userinfo and ID-token
// verification. Raw token types never leave this package: callers get
// domain.Grant, whose secrets cannot print themselves.
package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
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
	nonces   ports.NonceMemory
	cert     ports.ClientCertificate

	mu       sync.Mutex
	meta     *metadata
	provider *oidc.Provider
	client   *http.Client
}

// New returns the adapter; it does no I/O (discovery happens on first use).
func New(s domain.Settings, base ports.HTTPBase, clock ports.Clock, log *slog.Logger, prover ports.Prover, nonces ports.NonceMemory,
	cert ports.ClientCertificate) *Authority {
	return &Authority{settings: s, base: base, clock: clock, log: log, prover: prover, nonces: nonces, cert: cert}
}

var _ ports.Authority = (*Authority)(nil)

// metadata is the part of the discovery document stella reads.
type metadata struct {
	Issuer                  string             `json:"issuer"`
	AuthorizationEndpoint   string             `json:"authorization_endpoint"`
	TokenEndpoint           string             `json:"token_endpoint"`
	JWKSURI                 string             `json:"jwks_uri"`
	UserinfoEndpoint        string             `json:"userinfo_endpoint"`
	RevocationEndpoint      string             `json:"revocation_endpoint"`
	DeviceEndpoint          string             `json:"device_authorization_endpoint"`
	TokenAuthMethods        []string           `json:"token_endpoint_auth_methods_supported"`
	IDTokenAlgs             []string           `json:"id_token_signing_alg_values_supported"`
	DPoPAlgs                []domain.Untrusted `json:"dpop_signing_alg_values_supported"`
	CodeChallengeMethods    []string           `json:"code_challenge_methods_supported"`
	AuthorizationIssParamOK bool               `json:"authorization_response_iss_parameter_supported"`
	// MTLSAliases are the endpoints to use with a client certificate (RFC 8705 §5).
	MTLSAliases map[string]string `json:"mtls_endpoint_aliases"`

	serverDate, fetchedAt time.Time // the response's Date header, and when it arrived
}

// clientFor is the client for one request: in DPoP mode every request it
// sends carries a proof made with key (and, for userinfo, the token's hash).
func (a *Authority) clientFor(key, access domain.Secret) *http.Client {
	base := a.httpClient()
	if key.IsZero() {
		return base
	}
	c := *base
	c.Transport = a.prover.Wrap(limitBody{a.base}, a.nonces, key, access)
	return &c
}

// httpClient is the client for every Authority request: bounded bodies,
// the request timeout, and no redirects — a token request that is
// redirected elsewhere must fail, not follow.
func (a *Authority) httpClient() *http.Client {
	if a.client == nil {
		a.client = &http.Client{
			Transport: limitBody{a.base},
			Timeout:   a.settings.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return a.client
}

func (a *Authority) host() string {
	if u, err := url.Parse(a.settings.AuthorityURL); err == nil {
		return u.Host
	}
	return a.settings.AuthorityURL
}

// Discover fetches and checks the Authority's metadata, once per process.
func (a *Authority) Discover(ctx context.Context) (ports.Discovery, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return ports.Discovery{}, err
	}
	var eps []string
	for _, ep := range []struct{ name, url string }{{"authorization", m.AuthorizationEndpoint}, {"token", m.TokenEndpoint},
		{"device_authorization", m.DeviceEndpoint}, {"revocation", m.RevocationEndpoint}, {"userinfo", m.UserinfoEndpoint}, {"jwks", m.JWKSURI}} {
		if ep.url != "" {
			eps = append(eps, ep.name)
		}
	}
	return ports.Discovery{Issuer: domain.Untrusted(m.Issuer), TokenEndpoint: domain.Untrusted(m.TokenEndpoint),
		RevocationEndpoint: domain.Untrusted(m.RevocationEndpoint), UserinfoEndpoint: domain.Untrusted(m.UserinfoEndpoint), DPoPAlgs: m.DPoPAlgs, ServerDate: m.serverDate, FetchedAt: m.fetchedAt, Endpoints: eps}, nil
}

func (a *Authority) discover(ctx context.Context) (*metadata, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.meta != nil {
		return a.meta, nil
	}
	if err := a.settings.RequireAuthority(); err != nil {
		return nil, err
	}
	issuer := a.settings.AuthorityURL
	if _, err := domain.ValidateServerURL("Authority URL", issuer); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(issuer, "/")
	var m *metadata
	var err error
	for _, wk := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		m, err = a.fetchMetadata(ctx, base+wk)
		if !errors.Is(err, errNotFound) {
			break
		}
	}
	if errors.Is(err, errNotFound) {
		return nil, domain.E(domain.KindProtocol, "the Authority at "+a.host()+" publishes no discovery document",
			"Check the Authority URL: it must be the issuer, whose /.well-known/openid-configuration describes it.")
	}
	if err != nil {
		return nil, err
	}
	// OIDC Discovery §4.3 / RFC 8414 §3.3: the issuer must be exactly the
	// URL we were configured with, or a server could impersonate another.
	// One exception, for a copy-paste: a URL that differs from the issuer
	// only by one trailing slash names the same server; everything after
	// discovery (ID tokens, RFC 9207 iss) is checked against the issuer's
	// own spelling, so nothing else is relaxed.
	if m.Issuer != issuer && (m.Issuer == issuer+"/" || m.Issuer+"/" == issuer) {
		a.log.Warn(fmt.Sprintf("the Authority URL %s differs from the issuer %s only by a trailing slash; using the issuer's spelling (set the URL to it to silence this)",
			issuer, domain.Printable(m.Issuer, 200)))
	} else if m.Issuer != issuer {
		return nil, domain.E(domain.KindProtocol, fmt.Sprintf("Authority issuer mismatch: configured %q, the server says %q", issuer, domain.Printable(m.Issuer, 200)),
			"Set the Authority URL to exactly the issuer the Authority publishes (mind a trailing slash).")
	}
	if m.TokenEndpoint == "" {
		return nil, domain.E(domain.KindProtocol, "the Authority's discovery document has no token_endpoint", "Check the Authority's configuration.")
	}
	for name, ep := range map[string]string{"token_endpoint": m.TokenEndpoint, "jwks_uri": m.JWKSURI, "userinfo_endpoint": m.UserinfoEndpoint,
		"revocation_endpoint": m.RevocationEndpoint, "authorization_endpoint": m.AuthorizationEndpoint, "device_authorization_endpoint": m.DeviceEndpoint} {
		if ep == "" {
			continue
		}
		if _, err := domain.ValidateServerURL(name, ep); err != nil {
			return nil, domain.Wrap(domain.KindProtocol, err, "the Authority advertises an unsafe "+name,
				"Endpoints must be https (or loopback); check the Authority's configuration.")
		}
	}
	if a.settings.AuthMode == domain.AuthModeMTLS {
		for name, ep := range map[string]*string{"token_endpoint": &m.TokenEndpoint, "revocation_endpoint": &m.RevocationEndpoint,
			"userinfo_endpoint": &m.UserinfoEndpoint} {
			if alias := m.MTLSAliases[name]; alias != "" {
				if _, err := domain.ValidateServerURL(name+" alias", alias); err != nil {
					return nil, domain.Wrap(domain.KindProtocol, err, "the Authority advertises an unsafe mTLS "+name, "")
				}
				*ep = alias
			}
		}
	}
	a.meta = m
	a.log.Debug("discovered the Authority", "issuer", m.Issuer, "token_endpoint", m.TokenEndpoint,
		"auth_methods", strings.Join(m.TokenAuthMethods, ","), "revocation", m.RevocationEndpoint != "")
	return m, nil
}

var errNotFound = errors.New("not found")

func (a *Authority) fetchMetadata(ctx context.Context, u string) (*metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, domain.Wrap(domain.KindUsage, err, "bad Authority URL", "Check the Authority URL.")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return nil, a.netErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, a.netErr(err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNotFound
	case resp.StatusCode >= 500:
		return nil, domain.E(domain.KindServer, fmt.Sprintf("the Authority at %s failed to serve its discovery document (%s)", a.host(), resp.Status),
			"Try again later.")
	case resp.StatusCode != http.StatusOK:
		return nil, domain.E(domain.KindProtocol, fmt.Sprintf("the Authority at %s answered %s for its discovery document", a.host(), resp.Status),
			"Check the Authority URL.")
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, domain.Wrap(domain.KindProtocol, err, "the Authority's discovery document is not valid JSON", "Check the Authority URL.")
	}
	m.fetchedAt = a.now()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		m.serverDate = d
	}
	return &m, nil
}

// oidcProvider is go-oidc's view of the Authority, for ID-token checks.
func (a *Authority) oidcProvider(ctx context.Context, m *metadata) *oidc.Provider {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider == nil {
		cfg := oidc.ProviderConfig{IssuerURL: m.Issuer, AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
			DeviceAuthURL: m.DeviceEndpoint, UserInfoURL: m.UserinfoEndpoint, JWKSURL: m.JWKSURI, Algorithms: m.IDTokenAlgs}
		a.provider = cfg.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), a.httpClient()))
	}
	return a.provider
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
