package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxLifetime caps an absurd expires_in: a token is renewed on this
// schedule at the latest, whatever the server claims.
const maxLifetime = 365 * 24 * time.Hour

// grant checks a token response and turns it into a domain.Grant.
func (a *Authority) grant(ctx context.Context, m *metadata, tok *oauth2.Token, req ports.TokenRequest, nonce string) (domain.Grant, error) {
	asked := req.Scopes
	now := a.now()
	if tok.AccessToken == "" {
		return domain.Grant{}, malformed("it has no access_token")
	}
	raw := fmt.Sprint(tok.Extra("token_type"))
	if tok.Extra("token_type") == nil {
		raw = tok.TokenType
	}
	typ := domain.NormalizeTokenType(raw)
	claims, isJWT := domain.PeekJWTClaims(tok.AccessToken)
	if err := a.checkBinding(typ, raw, claims, isJWT, req); err != nil {
		return domain.Grant{}, err
	}
	access := domain.Token{Value: domain.NewSecret(tok.AccessToken), Type: typ, IssuedAt: now, Scopes: asked}
	access.Expiry = a.expiry(tok, claims, now)
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		granted, err := domain.ParseScopes(s)
		if err != nil {
			return domain.Grant{}, malformed("its scope is not a valid scope list")
		}
		access.Scopes = granted
	}
	g := domain.Grant{Access: access, Refresh: domain.NewSecret(tok.RefreshToken)}
	if isJWT {
		g.Claims = claims
		// A person's identity comes from a verified ID token or from
		// userinfo, never from an access token the client cannot verify
		// (it is the resource server's, RFC 9068). A client's own
		// token names the client, which is all it can claim.
		if !asked.Has("openid") {
			g.Identity = domain.IdentityFromClaims(claims)
		}
	}
	if idt, ok := tok.Extra("id_token").(string); ok && idt != "" {
		idClaims, err := a.verifyIDToken(ctx, m, idt, nonce)
		if err != nil {
			return domain.Grant{}, err
		}
		g.IDToken = domain.NewSecret(idt)
		id := domain.IdentityFromClaims(idClaims)
		if id.Tenant == "" {
			id.Tenant = g.Identity.Tenant
		}
		g.Identity = id
	}
	return g, nil
}

// checkBinding refuses a token that is not bound the way AuthMode says
// (SPEC §3.9): no silent downgrade from DPoP to bearer, and a JWT access
// token's cnf.jkt must be our key's thumbprint (RFC 9449 §6.1).
func (a *Authority) checkBinding(typ, raw string, claims map[string]any, isJWT bool, req ports.TokenRequest) error {
	switch a.settings.AuthMode {
	case domain.AuthModeDPoP:
		if typ != domain.TokenTypeDPoP {
			return domain.E(domain.KindProtocol,
				fmt.Sprintf("the Authority answered a DPoP token request with an unbound %q token", domain.Printable(raw, 32)),
				"If this Authority does not support DPoP, set AuthMode: bearer (or --auth-mode bearer) for it.")
		}
		if !isJWT {
			return nil // opaque: the Authority binds it server-side
		}
		jkt, err := a.prover.Thumbprint(req.DPoPKey)
		if err != nil {
			return err
		}
		if got := domain.ClaimCnf(claims, "jkt"); got != jkt {
			return domain.E(domain.KindProtocol, "the access token is bound to another key (cnf.jkt does not match this session's DPoP key)",
				"Nothing was stored. Check the Authority; sign in again.")
		}
	case domain.AuthModeMTLS:
		// RFC 8705 §3: certificate-bound tokens keep the Bearer type.
		if typ != domain.TokenTypeBearer {
			return domain.E(domain.KindProtocol, fmt.Sprintf("the Authority issued a %q token to an mTLS client", domain.Printable(raw, 32)),
				"Check the Authority's client configuration, or use AuthMode dpop.")
		}
		if !isJWT {
			return nil
		}
		x5t, err := a.cert.Thumbprint()
		if err != nil {
			return err
		}
		if got := domain.ClaimCnf(claims, "x5t#S256"); got != x5t {
			return domain.E(domain.KindProtocol, "the access token is not bound to this client certificate (cnf x5t#S256 does not match)",
				"Nothing was stored. Check that the Authority binds tokens to client certificates (tls_client_certificate_bound_access_tokens).")
		}
	default:
		if typ != domain.TokenTypeBearer {
			// RFC 6749 §7.1: a client must not use a token type it does not
			// understand.
			return domain.E(domain.KindProtocol,
				fmt.Sprintf("the Authority issued a %q token, but AuthMode is %s", domain.Printable(raw, 32), a.settings.AuthMode),
				"Set AuthMode to match the Authority (dpop for DPoP-bound tokens), or ask its operators to issue bearer tokens to this client.")
		}
	}
	return nil
}

// expiry reads expires_in as servers really send it: a number, a numeric
// string, absent (then the JWT's exp, unless that has passed), zero or
// negative (unknown), or absurdly large (capped).
func (a *Authority) expiry(tok *oauth2.Token, claims map[string]any, now time.Time) time.Time {
	var secs float64
	var ok bool
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs, ok = v, true
	case json.Number:
		secs, _ = v.Float64()
		ok = true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		secs, ok = f, err == nil
	}
	exp := domain.ClaimTime(claims, "exp")
	switch {
	case ok && secs > 0:
		d := time.Duration(secs * float64(time.Second))
		if secs > maxLifetime.Seconds() {
			a.log.Debug("expires_in is absurd; capping it", "expires_in", secs)
			d = maxLifetime
		}
		// Never trust expires_in beyond the token's own exp: renewing a
		// little early costs nothing, using a dead token costs a 401.
		if !exp.IsZero() && exp.After(now) && exp.Before(now.Add(d)) {
			return exp
		}
		return now.Add(d)
	case ok:
		a.log.Debug("expires_in is not positive; treating the lifetime as unknown", "expires_in", secs)
	}
	switch {
	case exp.IsZero():
	case !exp.After(now):
		// Already past by this machine's clock, which may be the one that
		// is wrong (the backend may still take the token): the lifetime is
		// unknown, and a 401 renews it.
		a.log.Debug("the token's exp has passed by this machine's clock; treating the lifetime as unknown (stella auth doctor checks the clock)", "exp", exp)
	case exp.Sub(now) > maxLifetime:
		return now.Add(maxLifetime)
	default:
		return exp
	}
	return time.Time{}
}

func malformed(why string) error {
	return domain.E(domain.KindProtocol, "malformed token response: "+why, "Check that the Authority URL points at an OAuth 2 Authority.")
}
