package auth

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

var _ ports.InteractiveAuthority = (*Authority)(nil)

// AuthorizationURL builds the authorization request of the browser sign-in:
// code flow with PKCE S256 (RFC 7636), state, OIDC nonce, and dpop_jkt
// (RFC 9449 §10) so the code can only be redeemed with the session's key.
func (a *Authority) AuthorizationURL(ctx context.Context, req ports.AuthorizationRequest) (string, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return "", err
	}
	if m.AuthorizationEndpoint == "" {
		return "", domain.E(domain.KindProtocol, "the Authority has no authorization endpoint for a browser sign-in",
			"Use `stella auth login --headless`, or client credentials.")
	}
	conf := a.oauthConfig(m, req.Scopes)
	conf.RedirectURL = req.RedirectURI
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
		oauth2.SetAuthURLParam("nonce", req.Nonce),
	}
	if req.DPoPJKT != "" {
		opts = append(opts, oauth2.SetAuthURLParam("dpop_jkt", req.DPoPJKT))
	}
	if req.Audience != "" {
		// RFC 8707 §2.1: ask for the resource when authorizing, or the
		// grant (and every refresh of it) cannot cover it.
		opts = append(opts, oauth2.SetAuthURLParam("resource", req.Audience))
	}
	if req.Scopes.Has("offline_access") {
		// OIDC Core §11: offline_access is granted only with prompt=consent.
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	return conf.AuthCodeURL(req.State, opts...), nil
}

// CheckIssuer applies RFC 9207: an iss parameter must be the Authority's
// issuer, and an Authority that promises one must send it.
func (a *Authority) CheckIssuer(ctx context.Context, iss string, present bool) error {
	m, err := a.discover(ctx)
	if err != nil {
		return err
	}
	switch {
	case present && iss != m.Issuer:
		return domain.E(domain.KindProtocol, fmt.Sprintf("the sign-in response came from issuer %q, not %q", domain.Printable(iss, 200), m.Issuer),
			"Nothing was stored. Another Authority answered (a mix-up attack, or a misconfiguration); sign in again.")
	case !present && m.AuthorizationIssParamOK:
		return domain.E(domain.KindProtocol, "the sign-in response has no iss, although the Authority promises one (RFC 9207)",
			"Nothing was stored. Sign in again.")
	}
	return nil
}

// ExchangeCode redeems the authorization code with the PKCE verifier and
// verifies the ID token, nonce included.
func (a *Authority) ExchangeCode(ctx context.Context, req ports.TokenRequest, code, verifier domain.Secret, redirectURI, nonce string) (domain.Grant, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	conf := a.oauthConfig(m, req.Scopes)
	conf.RedirectURL = redirectURI
	tctx, err := a.ctx(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	start := a.now()
	tok, err := conf.Exchange(tctx, code.Reveal(), append(resourceOpts(req), oauth2.VerifierOption(verifier.Reveal()))...)
	a.logGrant(domain.GrantAuthorizationCode, req.Scopes, start, err)
	if err != nil {
		return domain.Grant{}, a.tokenErr(err, domain.GrantAuthorizationCode, req)
	}
	if req.Scopes.Has("openid") {
		if idt, _ := tok.Extra("id_token").(string); idt == "" {
			return domain.Grant{}, domain.E(domain.KindProtocol, "the Authority returned no ID token for an openid sign-in",
				"Nothing was stored. Check the Authority's client configuration.")
		}
	}
	return a.grant(ctx, m, tok, req, nonce)
}

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
			"Use `"+a.loginCommand()+" --browser` (over SSH: --callback-port and an `ssh -L` tunnel), or client credentials.")
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
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	conf := a.oauthConfig(m, req.Scopes)
	tctx, err := a.ctx(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	tok, err := conf.Exchange(tctx, "", append(resourceOpts(req),
		oauth2.SetAuthURLParam("grant_type", domain.GrantDeviceCode),
		oauth2.SetAuthURLParam("device_code", deviceCode.Reveal()))...)
	if err != nil {
		return domain.Grant{}, a.tokenErr(err, domain.GrantDeviceCode, req)
	}
	a.logGrant(domain.GrantDeviceCode, req.Scopes, a.now(), nil)
	return a.grant(ctx, m, tok, req, "")
}

func stripQuery(u string) string {
	for i, c := range u {
		if c == '?' || c == '#' {
			return u[:i]
		}
	}
	return u
}

// resourceOpts carries the RFC 8707 resource indicator, when configured,
// on a token request (§2.2).
func resourceOpts(req ports.TokenRequest) []oauth2.AuthCodeOption {
	if req.Audience == "" {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", req.Audience)}
}
