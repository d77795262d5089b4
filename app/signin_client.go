package app

import (
	"context"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// clientCredentialsSignIn signs the client itself in with its secret
// (RFC 6749 §4.4): CI and other machines, no person involved.
type clientCredentialsSignIn struct {
	settings  domain.Settings
	authority ports.Authority
}

func (clientCredentialsSignIn) grantType() string { return domain.GrantClientCredentials }
func (clientCredentialsSignIn) interactive() bool { return false }

func (f clientCredentialsSignIn) grant(ctx context.Context, in signInInput) (domain.Grant, error) {
	if !f.settings.HasClientSecret() {
		return domain.Grant{}, domain.E(domain.KindUsage, "client credentials need a client secret",
			"Set STELLA_CLIENT_SECRET_FILE (or StellaOps.Authority.ClientSecretFile in the profile).")
	}
	return f.authority.ClientCredentials(ctx, in.req)
}

// passwordSignIn is the deprecated resource owner password grant (RFC 6749
// §4.3), from STELLA_USERNAME and STELLA_PASSWORD only: stella never
// prompts for a password.
type passwordSignIn struct {
	settings  domain.Settings
	authority ports.Authority
}

func (passwordSignIn) grantType() string { return domain.GrantPassword }
func (passwordSignIn) interactive() bool { return false }

func (f passwordSignIn) grant(ctx context.Context, in signInInput) (domain.Grant, error) {
	if f.settings.Username == "" || f.settings.Password.IsZero() {
		return domain.Grant{}, domain.E(domain.KindUsage, "the password grant needs STELLA_USERNAME and STELLA_PASSWORD (or STELLA_PASSWORD_FILE)",
			"Set both variables; stella never prompts for a password.")
	}
	return f.authority.Password(ctx, in.req, f.settings.Username, f.settings.Password)
}
