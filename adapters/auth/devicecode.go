package auth

import (
	"context"
	"time"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// StartDevice begins the device authorization grant (RFC 8628 §3.1).
func (a *Authority) StartDevice(ctx context.Context, req ports.TokenRequest) (ports.DeviceAuthorization, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return ports.DeviceAuthorization{}, err
	}
	if m.DeviceEndpoint == "" {
		// A configuration matter, not a violation: the Authority simply
		// offers no device_authorization_endpoint (Dex without it, most
		// Hydra set-ups), so the user picks another flow.
		return ports.DeviceAuthorization{}, domain.E(domain.KindUsage, "the Authority at "+a.host()+" does not offer the device sign-in (no device_authorization_endpoint)",
			"Use `"+a.settings.LoginCommand()+" --browser` (over SSH: --callback-port and an `ssh -L` tunnel), or client credentials.")
	}
	conf := a.oauthConfig(m, req.Scopes)
	conf.Endpoint.DeviceAuthURL = m.DeviceEndpoint
	start := a.now()
	// RFC 8707 in the device authorization request too, the device flow's
	// counterpart of the authorization request.
	da, err := conf.DeviceAuth(context.WithValue(ctx, oauth2.HTTPClient, a.httpClient()), resourceOpts(req)...)
	a.log.Debug("device authorization", "scopes", req.Scopes.String(), "ok", err == nil, "duration", a.now().Sub(start).Round(time.Millisecond))
	if err != nil {
		return ports.DeviceAuthorization{}, a.tokenErr(err, domain.GrantDeviceCode, req)
	}
	out := ports.DeviceAuthorization{DeviceCode: domain.NewSecret(da.DeviceCode), UserCode: domain.Untrusted(da.UserCode),
		VerificationURI: domain.Untrusted(da.VerificationURI), VerificationURIComplete: domain.Untrusted(da.VerificationURIComplete),
		Interval: time.Duration(da.Interval) * time.Second}
	if !da.Expiry.IsZero() {
		out.ExpiresIn = time.Until(da.Expiry)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return ports.DeviceAuthorization{}, malformed("the device authorization answer lacks a code or URI")
	}
	for _, u := range []string{da.VerificationURI, da.VerificationURIComplete} {
		if u == "" {
			continue
		}
		if _, err := domain.ValidateServerURL("verification URI", stripQuery(u)); err != nil {
			return ports.DeviceAuthorization{}, domain.Wrap(domain.KindProtocol, err, "the Authority's verification URI is unsafe", "")
		}
	}
	return out, nil
}

// PollDevice asks once whether the person has approved (RFC 8628 §3.4).
func (a *Authority) PollDevice(ctx context.Context, req ports.TokenRequest, deviceCode domain.Secret) (domain.Grant, error) {
	return a.token(ctx, domain.GrantDeviceCode, req, "", func(c tokenCall) (*oauth2.Token, error) {
		return c.conf.Exchange(c.ctx, "", append(resourceOpts(req),
			oauth2.SetAuthURLParam("grant_type", domain.GrantDeviceCode),
			oauth2.SetAuthURLParam("device_code", deviceCode.Reveal()))...)
	})
}

func stripQuery(u string) string {
	for i, c := range u {
		if c == '?' || c == '#' {
			return u[:i]
		}
	}
	return u
}
