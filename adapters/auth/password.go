package auth

import (
	"context"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Password performs the legacy resource-owner password grant (RFC 6749
// §4.3). It exists for Authorities that still require it; OAuth 2.1 drops it.
func (a *Authority) Password(ctx context.Context, req ports.TokenRequest, username string, password domain.Secret) (domain.Grant, error) {
	return a.token(ctx, domain.GrantPassword, req, "", func(c tokenCall) (*oauth2.Token, error) {
		return c.conf.PasswordCredentialsToken(c.ctx, username, password.Reveal())
	})
}
