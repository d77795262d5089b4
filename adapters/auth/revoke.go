package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
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
	if oe, ok := domain.ParseOAuthError(body); ok && resp.StatusCode == http.StatusBadRequest && oe.Code == "unsupported_token_type" {
		return false, fmt.Errorf("the Authority does not revoke %ss: %w", strings.ReplaceAll(hint, "_", " "), ports.ErrNotRevocable)
	}
	return false, a.endpointErr("revocation", resp.StatusCode, body)
}
