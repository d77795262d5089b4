package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

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

// discoveries keeps, for the life of the process, the checked metadata of
// each Authority as it is reached — issuer URL, AuthMode (which picks the
// mTLS aliases) and CA bundle — so that every Authority client of it
// shares one discovery: `logout --all` and pending revocations build one
// client per stored session (kubelogin's Factory.New discovers once per
// client; here once per process). A failure is not kept: the next caller
// asks again.
type discoveries struct {
	mu sync.Mutex
	m  map[discoveryKey]*discovery
}

type discoveryKey struct {
	issuer, caBundle string
	mode             domain.AuthMode
}

// discovery is one Authority's metadata, fetched under its own lock, so
// that concurrent first callers wait for one fetch.
type discovery struct {
	mu   sync.Mutex
	meta *metadata
}

// processDiscoveries is the process's memory; tests give an Authority a
// fresh one.
var processDiscoveries = newDiscoveries()

func newDiscoveries() *discoveries { return &discoveries{m: map[discoveryKey]*discovery{}} }

func (d *discoveries) of(k discoveryKey) *discovery {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.m[k]
	if e == nil {
		e = &discovery{}
		d.m[k] = e
	}
	return e
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

// discover is the checked metadata every request starts from, fetched the
// first time any client of this Authority in the process needs it. It is
// read-only once kept.
func (a *Authority) discover(ctx context.Context) (*metadata, error) {
	e := a.discovered.of(discoveryKey{issuer: a.settings.AuthorityURL, caBundle: a.settings.CABundleFile, mode: a.settings.AuthMode})
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.meta == nil {
		m, err := a.fetchDiscovery(ctx)
		if err != nil {
			return nil, err
		}
		e.meta = m
	}
	return e.meta, nil
}

// fetchDiscovery fetches the discovery document and checks it.
func (a *Authority) fetchDiscovery(ctx context.Context) (*metadata, error) {
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
	a.log.Debug("discovered the Authority", "issuer", m.Issuer, "token_endpoint", m.TokenEndpoint,
		"auth_methods", strings.Join(m.TokenAuthMethods, ","), "revocation", m.RevocationEndpoint != "")
	return m, nil
}

var errNotFound = errors.New("not found")

func (a *Authority) fetchMetadata(ctx context.Context, u string) (*metadata, error) {
	resp, body, err := a.getJSON(ctx, a.httpClient(), u, func(err error) error {
		return domain.Wrap(domain.KindUsage, err, "bad Authority URL", "Check the Authority URL.")
	})
	if err != nil {
		return nil, err
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
