package auth

import (
	"context"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Refresh performs the refresh_token grant (RFC 6749 §6). The caller keeps
// the old refresh token when the answer carries none.
func (a *Authority) Refresh(ctx context.Context, req ports.TokenRequest, refresh domain.Secret) (domain.Grant, error) {
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("grant_type", "refresh_token"),
		oauth2.SetAuthURLParam("refresh_token", refresh.Reveal())}
	if len(req.Scopes) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("scope", req.Scopes.String()))
	}
	for k, v := range extraParams(req) {
		opts = append(opts, oauth2.SetAuthURLParam(k, v[0]))
	}
	return a.token(ctx, domain.GrantRefreshToken, req, "", func(c tokenCall) (*oauth2.Token, error) {
		// Exchange with grant_type overridden sends exactly the refresh
		// request and, unlike a TokenSource, lets the caller add
		// parameters (a down-scoped refresh for pack approval carries its
		// own).
		return c.conf.Exchange(c.ctx, "", opts...)
	})
}
