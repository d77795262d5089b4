package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
)

// Revoke revokes one token at the revocation endpoint (RFC 7009). It
// reports false without error when the Authority advertises none.
func (a *Authority) Revoke(ctx context.Context, token domain.Secret, hint string) (bool, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return false, err
	}
	if m.RevocationEndpoint == "" {
		return false, nil
	}
	form := url.Values{"token": {token.Reveal()}, "token_type_hint": {hint}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.RevocationEndpoint, nil)
	if err != nil {
		return false, domain.Wrap(domain.KindProtocol, err, "bad revocation endpoint", "")
	}
	a.authenticate(req, m, form)
	req.Body = io.NopCloser(strings.NewReader(form.Encode()))
	req.ContentLength = int64(len(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := a.now()
	resp, err := a.httpClient().Do(req)
	if err != nil {
		return false, a.netErr(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a.log.Debug("revocation", "hint", hint, "status", resp.StatusCode, "duration", a.now().Sub(start).Round(time.Millisecond))
	if resp.StatusCode == http.StatusOK {
		return true, nil
	}
	return false, a.endpointErr("revocation", resp.StatusCode, body)
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

// endpointErr maps a failed answer of a non-token endpoint.
func (a *Authority) endpointErr(what string, status int, body []byte) error {
	oe, ok := domain.ParseOAuthError(body)
	detail := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if ok {
		detail += ": " + oe.String()
	}
	switch {
	case status >= 500:
		return domain.E(domain.KindServer, fmt.Sprintf("the Authority's %s endpoint failed (%s)", what, detail), "Try again later.")
	case status == http.StatusUnauthorized || (ok && oe.Code == "invalid_client"):
		return domain.E(domain.KindUnauthorized, fmt.Sprintf("the Authority's %s endpoint rejected the client (%s)", what, detail),
			"Check the client id and secret.")
	}
	return domain.E(domain.KindProtocol, fmt.Sprintf("the Authority's %s endpoint refused the request (%s)", what, detail), "")
}

// UserInfo asks the userinfo endpoint who the token belongs to.
func (a *Authority) UserInfo(ctx context.Context, cred domain.Credential) (map[string]any, error) {
	m, err := a.discover(ctx)
	if err != nil {
		return nil, err
	}
	if m.UserinfoEndpoint == "" {
		return nil, domain.E(domain.KindServer, "the Authority has no userinfo endpoint", "")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.UserinfoEndpoint, nil)
	if err != nil {
		return nil, domain.Wrap(domain.KindProtocol, err, "bad userinfo endpoint", "")
	}
	// The token goes in its own scheme, with a DPoP proof when it is
	// DPoP-bound.
	req.Header.Set("Accept", "application/json")
	resp, err := a.clientFor(cred).Do(req)
	if err != nil {
		return nil, a.netErr(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, a.netErr(err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, domain.E(domain.KindUnauthorized, "the userinfo endpoint rejected the token", "")
	case resp.StatusCode == http.StatusForbidden:
		return nil, domain.E(domain.KindForbidden, "the token lacks the openid scope that userinfo requires", "")
	case resp.StatusCode != http.StatusOK:
		return nil, a.endpointErr("userinfo", resp.StatusCode, body)
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil || info == nil {
		return nil, domain.E(domain.KindProtocol, "the userinfo answer is not a JSON object", "")
	}
	return info, nil
}
