package auth

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"
)

// RawToken is allowed here: the authentication adapter owns raw tokens.
type RawToken = oauth2.Token

type holder struct{ password string }

// Raw returns the raw token; fine inside adapters/auth.
func Raw() *oauth2.Token { return &oauth2.Token{} }

func grant(c *oauth2.Config) {
	_, _ = c.PasswordCredentialsToken(context.Background(), "u", "p")
	_ = &http.Client{}
	_ = holder{}
}

// Settings may keep a secret here; the owner is exempt.
type Settings struct{ Password string }
