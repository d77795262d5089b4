package auth

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/stellaops/stella/adapters/auth/internal/wire" // its own sub-package: allowed
	"github.com/stellaops/stella/domain"
)

// RawToken is allowed here: the authentication adapter owns raw tokens.
type RawToken = oauth2.Token

// Raw returns the raw token; fine inside adapters/auth.
func Raw() *oauth2.Token { return &oauth2.Token{} }

// Adapter hands raw tokens out, which only its own package may do.
type Adapter struct{}

func (Adapter) Raw() *oauth2.Token { return nil }

func grant(c *oauth2.Config, s domain.Secret) {
	_, _ = c.PasswordCredentialsToken(context.Background(), "u", s.Reveal())
	_ = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	_ = wire.Form{}
}

// Settings may keep a secret here; the owner is exempt.
type Settings struct{ Password string }
