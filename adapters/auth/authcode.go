package auth

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

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
			"Use `"+a.settings.LoginCommand()+" --headless`, or client credentials.")
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
	return a.token(ctx, domain.GrantAuthorizationCode, req, nonce, func(c tokenCall) (*oauth2.Token, error) {
		c.conf.RedirectURL = redirectURI
		tok, err := c.conf.Exchange(c.ctx, code.Reveal(), append(resourceOpts(req), oauth2.VerifierOption(verifier.Reveal()))...)
		if err != nil {
			return nil, err
		}
		if req.Scopes.Has("openid") {
			if idt, _ := tok.Extra("id_token").(string); idt == "" {
				return nil, domain.E(domain.KindProtocol, "the Authority returned no ID token for an openid sign-in",
					"Nothing was stored. Check the Authority's client configuration.")
			}
		}
		return tok, nil
	})
}
