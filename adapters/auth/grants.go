package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// maxLifetime caps an absurd expires_in: a token is renewed on this
// schedule at the latest, whatever the server claims.
const maxLifetime = 365 * 24 * time.Hour

// authStyle picks client authentication from discovery. Never AutoDetect:
// it retries a failed request the other way, which would spend a rotating
// refresh token twice.
func (a *Authority) authStyle(m *metadata) oauth2.AuthStyle {
	if !a.settings.HasClientSecret() {
		return oauth2.AuthStyleInParams // public client: client_id in the form
	}
	if len(m.TokenAuthMethods) > 0 && !slices.Contains(m.TokenAuthMethods, "client_secret_basic") &&
		slices.Contains(m.TokenAuthMethods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (a *Authority) oauthConfig(m *metadata, scopes domain.Scopes) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     a.settings.ClientID,
		ClientSecret: a.settings.ClientSecret.Reveal(),
		Endpoint:     oauth2.Endpoint{TokenURL: m.TokenEndpoint, AuthURL: m.AuthorizationEndpoint, AuthStyle: a.authStyle(m)},
		Scopes:       scopes,
	}
}

// ctx carries the HTTP client x/oauth2 must use for this token request.
func (a *Authority) ctx(ctx context.Context, req ports.TokenRequest) (context.Context, error) {
	if a.settings.AuthMode == domain.AuthModeDPoP {
		if req.DPoPKey.IsZero() {
			return nil, domain.E(domain.KindUnexpected, "a DPoP token request without a key", "")
		}
		// stella's proofs are ES256; an Authority that lists its DPoP
		// algorithms must accept that one (RFC 9449 §5.1).
		if m := a.meta; m != nil && len(m.DPoPAlgs) > 0 && !slices.Contains(m.DPoPAlgs, "ES256") {
			return nil, domain.E(domain.KindProtocol, "the Authority accepts DPoP proofs only in "+domain.JoinUntrusted(m.DPoPAlgs, ", ")+", not ES256",
				"Set AuthMode: bearer for this Authority, or ask its operators to allow ES256.")
		}
	}
	return context.WithValue(ctx, oauth2.HTTPClient, a.clientFor(req.DPoPKey, domain.Secret{})), nil
}

// ClientCredentials performs the client_credentials grant (RFC 6749 §4.4).
func (a *Authority) ClientCredentials(ctx context.Context, req ports.TokenRequest) (domain.Grant, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	if !a.settings.HasClientSecret() {
		return domain.Grant{}, domain.E(domain.KindUsage, "client credentials need a client secret",
			"Set STELLA_CLIENT_SECRET_FILE or the profile's ClientSecretFile.")
	}
	cc := clientcredentials.Config{
		ClientID: a.settings.ClientID, ClientSecret: a.settings.ClientSecret.Reveal(), TokenURL: m.TokenEndpoint,
		Scopes: req.Scopes, EndpointParams: extraParams(req), AuthStyle: a.authStyle(m),
	}
	tctx, err := a.ctx(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	start := a.now()
	tok, err := cc.Token(tctx)
	a.logGrant(domain.GrantClientCredentials, req.Scopes, start, err)
	if err != nil {
		return domain.Grant{}, a.tokenErr(err, domain.GrantClientCredentials, req)
	}
	return a.grant(ctx, m, tok, req, "")
}

// Password performs the legacy resource-owner password grant (RFC 6749
// §4.3). It exists for Authorities that still require it; OAuth 2.1 drops it.
func (a *Authority) Password(ctx context.Context, req ports.TokenRequest, username string, password domain.Secret) (domain.Grant, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	conf := a.oauthConfig(m, req.Scopes)
	tctx, err := a.ctx(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	start := a.now()
	tok, err := conf.PasswordCredentialsToken(tctx, username, password.Reveal())
	a.logGrant(domain.GrantPassword, req.Scopes, start, err)
	if err != nil {
		return domain.Grant{}, a.tokenErr(err, domain.GrantPassword, req)
	}
	return a.grant(ctx, m, tok, req, "")
}

// Refresh performs the refresh_token grant (RFC 6749 §6). The caller keeps
// the old refresh token when the answer carries none.
func (a *Authority) Refresh(ctx context.Context, req ports.TokenRequest, refresh domain.Secret) (domain.Grant, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	conf := a.oauthConfig(m, req.Scopes)
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("grant_type", "refresh_token"),
		oauth2.SetAuthURLParam("refresh_token", refresh.Reveal())}
	if len(req.Scopes) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("scope", req.Scopes.String()))
	}
	for k, v := range extraParams(req) {
		opts = append(opts, oauth2.SetAuthURLParam(k, v[0]))
	}
	tctx, err := a.ctx(ctx, req)
	if err != nil {
		return domain.Grant{}, err
	}
	start := a.now()
	// Exchange with grant_type overridden sends exactly the refresh request
	// and, unlike a TokenSource, lets the caller add parameters (a
	// down-scoped refresh for pack approval carries its own).
	tok, err := conf.Exchange(tctx, "", opts...)
	a.logGrant(domain.GrantRefreshToken, req.Scopes, start, err)
	if err != nil {
		return domain.Grant{}, a.tokenErr(err, domain.GrantRefreshToken, req)
	}
	return a.grant(ctx, m, tok, req, "")
}

func extraParams(req ports.TokenRequest) url.Values {
	v := url.Values{}
	if req.Audience != "" {
		v.Set("resource", req.Audience)
	}
	for k, val := range req.Extra {
		v.Set(k, val)
	}
	return v
}

func (a *Authority) logGrant(grant string, scopes domain.Scopes, start time.Time, err error) {
	if err != nil {
		a.log.Debug("token request failed", "grant", grant, "scopes", scopes.String(), "duration", a.now().Sub(start).Round(time.Millisecond))
		return
	}
	a.log.Debug("token issued", "grant", grant, "scopes", scopes.String(), "duration", a.now().Sub(start).Round(time.Millisecond))
}

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

// verifyIDToken checks signature (JWKS), iss, aud, exp and, for the code
// flow, nonce (OIDC Core §3.1.3.7), with go-oidc.
func (a *Authority) verifyIDToken(ctx context.Context, m *metadata, raw, nonce string) (map[string]any, error) {
	p := a.oidcProvider(ctx, m)
	v := p.Verifier(&oidc.Config{ClientID: a.settings.ClientID, Now: a.now})
	idt, err := v.Verify(oidc.ClientContext(ctx, a.httpClient()), raw)
	if err != nil {
		if k := domain.KindOf(err); k == domain.KindUnreachable || k == domain.KindServer {
			return nil, err
		}
		return nil, domain.Wrap(domain.KindProtocol, err, "the ID token failed verification", "Nothing was stored. Check the Authority; sign in again.")
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, domain.E(domain.KindProtocol, "the ID token's nonce does not match this sign-in", "Nothing was stored. Sign in again.")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, domain.Wrap(domain.KindProtocol, err, "the ID token's claims are not readable", "Sign in again.")
	}
	if domain.ClaimString(claims, "sub") == "" {
		return nil, domain.E(domain.KindProtocol, "the ID token has no subject", "Nothing was stored. Check the Authority.")
	}
	// OIDC Core §2: iat is required; go-oidc does not insist on it.
	if idt.IssuedAt.IsZero() {
		return nil, domain.E(domain.KindProtocol, "the ID token has no issue time (iat)", "Nothing was stored. Check the Authority.")
	}
	return claims, nil
}

func malformed(why string) error {
	return domain.E(domain.KindProtocol, "malformed token response: "+why, "Check that the Authority URL points at an OAuth 2 Authority.")
}

// tokenErr gives a token endpoint failure its kind (SPEC §4) and advice.
func (a *Authority) tokenErr(err error, grant string, req ports.TokenRequest) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// Our own kinded errors pass through; raw network and context
		// errors are named here, as the Authority's, before a caller that
		// only sees "deadline exceeded" blames someone else.
		var de *domain.Error
		if errors.As(err, &de) {
			return de // without net/http's `Post "URL":` wrapper
		}
		var ue *url.Error
		if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
			return a.netErr(err)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		// x/oauth2 could not parse the answer: not JSON, no access_token.
		return domain.Wrap(domain.KindProtocol, errors.New(domain.Printable(err.Error(), 200)), "malformed token response from the Authority at "+a.host(),
			"Check that the Authority URL points at an OAuth 2 Authority.")
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	oe, isOAuth := domain.ParseOAuthError(re.Body)
	where := "the Authority at " + a.host()
	if status >= 500 {
		msg := fmt.Sprintf("%s failed (%d %s)", where, status, http.StatusText(status))
		if isOAuth {
			msg += ": " + oe.String()
		}
		return domain.E(domain.KindServer, msg, "The Authority failed; try again later.")
	}
	if status >= 300 && status < 400 {
		return domain.E(domain.KindProtocol, fmt.Sprintf("%s redirected the token request (%d); token requests are never followed elsewhere", where, status),
			"Check the Authority URL: the token endpoint must answer directly.")
	}
	if !isOAuth {
		return domain.E(domain.KindProtocol, fmt.Sprintf("%s answered the token request with %d and no OAuth error", where, status),
			"Check that the Authority URL points at an OAuth 2 Authority.")
	}
	login := a.loginCommand()
	if grant == domain.GrantRefreshToken && refreshTokenRefused(oe, req) {
		// RFC 6749 §5.2 says invalid_grant, but Authorities choose other
		// codes for a dead refresh token (Dex: invalid_request "Refresh
		// token is invalid or has already been claimed"). Whatever the
		// code, a refusal of the refresh token ends the session: exit 12
		// with the command that signs in again.
		return domain.E(domain.KindLoginRequired, "the Authority no longer accepts the session ("+oe.String()+")",
			"Sign in again: `"+login+"`.")
	}
	switch oe.Code {
	case "server_error", "temporarily_unavailable":
		return domain.E(domain.KindServer, fmt.Sprintf("%s could not answer the token request (%s)", where, oe.String()),
			"The Authority failed; try again later.")
	case "authorization_pending":
		return fmt.Errorf("%s: %w", where, ports.ErrAuthorizationPending)
	case "slow_down":
		return fmt.Errorf("%s: %w", where, ports.ErrSlowDown)
	case "expired_token":
		return domain.E(domain.KindTimeout, "the device code expired before the sign-in was approved",
			"Run `"+login+" --headless` again and enter the new code in time.")
	case "invalid_client":
		return domain.E(domain.KindUnauthorized, "the Authority rejected the client credentials ("+oe.String()+")",
			"Check the client id ("+a.settings.ClientID+") and the client secret in "+secretSourceOr(a.settings)+".")
	case "invalid_grant":
		if grant == domain.GrantPassword {
			return domain.E(domain.KindUnauthorized, "the Authority rejected the username or password ("+oe.String()+")",
				"Check STELLA_USERNAME and STELLA_PASSWORD / STELLA_PASSWORD_FILE.")
		}
		return domain.E(domain.KindLoginRequired, "the Authority no longer accepts the session ("+oe.String()+")",
			"Sign in again: `"+login+"`.")
	case "invalid_scope":
		return domain.E(domain.KindForbidden, fmt.Sprintf("the Authority refused the scopes %q for client %s (%s)", req.Scopes.String(), a.settings.ClientID, oe.String()),
			"Ask only for scopes this client is allowed (--scope / STELLA_SCOPE / the profile's Scope).")
	case "unauthorized_client", "unsupported_grant_type":
		return domain.E(domain.KindUnauthorized, fmt.Sprintf("client %s may not use the %s grant (%s)", a.settings.ClientID, grant, oe.String()),
			"Use a sign-in method the Authority allows for this client, or another client id.")
	case "access_denied":
		if grant == domain.GrantDeviceCode {
			return domain.E(domain.KindAccessDenied, "the sign-in was denied on the verification page",
				"Run `"+login+" --headless` again and approve the request if you meant to.")
		}
		return domain.E(domain.KindAccessDenied, "the Authority denied the request ("+oe.String()+")", "Ask the Authority's operators for access.")
	}
	return domain.E(domain.KindProtocol, fmt.Sprintf("%s refused the token request: %s", where, oe.String()),
		"Check the client's configuration at the Authority.")
}

// loginCommand is the command that signs this configuration in again.
func (a *Authority) loginCommand() string {
	login := "stella auth login"
	if a.settings.Profile != "" {
		login += " --profile " + a.settings.Profile
	}
	return login
}

// refreshTokenRefused says whether a refresh request's error refuses the
// refresh token itself. Not so: client-authentication errors (their own
// exit code and advice), a server failure, a narrowed scope the session
// does not hold (a down-scoped refresh), and DPoP proof or nonce refusals,
// which say nothing about the token and must not end the session.
func refreshTokenRefused(oe domain.OAuthError, req ports.TokenRequest) bool {
	switch {
	case oe.ClientAuthError(), oe.Kind() == domain.KindServer:
		return false
	case oe.Code == "invalid_scope" && len(req.Scopes) > 0:
		return false
	case oe.Code == "use_dpop_nonce", oe.Code == "invalid_dpop_proof":
		return false
	}
	return true
}

// secretSourceOr names the client secret's source for a hint: the one in
// use, or where one could be set.
func secretSourceOr(s domain.Settings) string {
	if src := s.ClientSecretSource(); src != "" {
		return src
	}
	return "STELLA_CLIENT_SECRET_FILE or the profile's ClientSecretFile"
}
