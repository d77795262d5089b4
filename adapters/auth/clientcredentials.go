package auth

import (
	"context"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// ClientCredentials performs the client_credentials grant (RFC 6749 §4.4).
func (a *Authority) ClientCredentials(ctx context.Context, req ports.TokenRequest) (domain.Grant, error) {
	if !a.settings.HasClientSecret() {
		return domain.Grant{}, domain.E(domain.KindUsage, "client credentials need a client secret",
			"Set STELLA_CLIENT_SECRET_FILE or the profile's ClientSecretFile.")
	}
	return a.token(ctx, domain.GrantClientCredentials, req, "", func(c tokenCall) (*oauth2.Token, error) {
		cc := clientcredentials.Config{
			ClientID: a.settings.ClientID, ClientSecret: a.settings.ClientSecret.Reveal(), TokenURL: c.m.TokenEndpoint,
			Scopes: req.Scopes, EndpointParams: extraParams(req), AuthStyle: a.authStyle(c.m),
		}
		return cc.Token(c.ctx)
	})
}
