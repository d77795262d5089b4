package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// tokenCall is what a grant's request needs once the Authority is
// discovered: its metadata, x/oauth2's configuration for the request's
// scopes, and a context that carries the HTTP client x/oauth2 must use.
type tokenCall struct {
	m    *metadata
	conf *oauth2.Config
	ctx  context.Context
}

// token makes one token request of the named grant, the same way for every
// grant: discovery (once per process), the client (a DPoP proof on every
// request in DPoP mode), the request itself (do), its debug line, the
// error's kind and advice, and the checks of the answer. nonce is the OIDC
// nonce the ID token must carry (the code flow), else "".
func (a *Authority) token(ctx context.Context, grant string, req ports.TokenRequest, nonce string, do func(tokenCall) (*oauth2.Token, error)) (domain.Grant, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return domain.Grant{}, err
	}
	tctx, err := a.tokenContext(ctx, m, req)
	if err != nil {
		return domain.Grant{}, err
	}
	start := a.now()
	tok, err := do(tokenCall{m: m, conf: a.oauthConfig(m, req.Scopes), ctx: tctx})
	if err != nil {
		err = a.tokenErr(err, grant, req)
	}
	// A device poll that is told to keep waiting is not worth a line
	// every few seconds.
	if !errors.Is(err, ports.ErrAuthorizationPending) && !errors.Is(err, ports.ErrSlowDown) {
		a.logGrant(grant, req.Scopes, start, err)
	}
	if err != nil {
		return domain.Grant{}, err
	}
	return a.grant(ctx, m, tok, req, nonce)
}

// tokenContext carries the HTTP client x/oauth2 must use for this token
// request: in DPoP mode one that proves possession of the request's key.
func (a *Authority) tokenContext(ctx context.Context, m *metadata, req ports.TokenRequest) (context.Context, error) {
	if a.settings.AuthMode == domain.AuthModeDPoP {
		if req.DPoPKey.IsZero() {
			return nil, domain.E(domain.KindUnexpected, "a DPoP token request without a key", "")
		}
		// stella's proofs are ES256; an Authority that lists its DPoP
		// algorithms must accept that one (RFC 9449 §5.1).
		if len(m.DPoPAlgs) > 0 && !slices.Contains(m.DPoPAlgs, "ES256") {
			return nil, domain.E(domain.KindProtocol, "the Authority accepts DPoP proofs only in "+domain.JoinUntrusted(m.DPoPAlgs, ", ")+", not ES256",
				"Set AuthMode: bearer for this Authority, or ask its operators to allow ES256.")
		}
	}
	return context.WithValue(ctx, oauth2.HTTPClient, a.clientFor(domain.Credential{DPoPKey: req.DPoPKey})), nil
}

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

// authenticate adds client authentication as at the token endpoint.
func (a *Authority) authenticate(req *http.Request, m *metadata, form url.Values) {
	if !a.settings.HasClientSecret() {
		form.Set("client_id", a.settings.ClientID)
		return
	}
	if a.authStyle(m) == oauth2.AuthStyleInParams {
		form.Set("client_id", a.settings.ClientID)
		form.Set("client_secret", a.settings.ClientSecret.Reveal())
		return
	}
	// RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
	req.SetBasicAuth(url.QueryEscape(a.settings.ClientID), url.QueryEscape(a.settings.ClientSecret.Reveal()))
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

// resourceOpts carries the RFC 8707 resource indicator, when configured,
// on a token request (§2.2).
func resourceOpts(req ports.TokenRequest) []oauth2.AuthCodeOption {
	if req.Audience == "" {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("resource", req.Audience)}
}
