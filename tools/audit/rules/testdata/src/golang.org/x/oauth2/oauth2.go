// Package oauth2 is a stub of golang.org/x/oauth2 for the analyzer's tests.
package oauth2

import "context"

type Token struct{ AccessToken, RefreshToken string }

type Config struct{ ClientID string }

func (c *Config) PasswordCredentialsToken(ctx context.Context, user, pass string) (*Token, error) {
	return &Token{}, nil
}

func (c *Config) AuthCodeURL(state string) string { return "" }
