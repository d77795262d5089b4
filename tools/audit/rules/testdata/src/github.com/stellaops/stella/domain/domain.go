package domain

import (
	"fmt"

	"golang.org/x/oauth2" // want `audit\(layer-domain\): domain must import only the standard library`
)

type Secret struct{ v string }

func (s Secret) Reveal() string { return s.v }

type Session struct{ Access Secret }

// EncodeSession reveals inside domain, which owns Secret: allowed.
func EncodeSession(s Session) []byte { return []byte(s.Access.Reveal()) }

// OAuthError's Code is not a credential: no report for a non-credential name.
type OAuthError struct {
	Code        string
	Description string
}

var _ = fmt.Sprint
var _ oauth2.Config
