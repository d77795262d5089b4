package domain

import (
	"fmt"

	"golang.org/x/oauth2" // want `audit\(layer-domain\): domain must import only the standard library \(domain imports golang.org/x/oauth2\); move the I/O to an adapter behind a port`
)

type Secret struct{ v string }

func NewSecret(v string) Secret { return Secret{v: v} }

func (s Secret) Reveal() string { return s.v }

type Session struct{ Access Secret }

// EncodeSession reveals inside domain, which owns Secret: allowed.
func EncodeSession(s Session) []byte { return []byte(s.Access.Reveal()) }

// OAuthError's Code is the error code, allowed by a qualified entry.
type OAuthError struct {
	Code        string
	Description string
}

// Untrusted is a server's text; its own package may read the bytes.
type Untrusted string

func (u Untrusted) String() string { return "sanitised " + string(u) }

func (u Untrusted) Raw() string { return string(u) }

func shown(u Untrusted) string { return u.Raw() + string(u[0]) }

var _ = fmt.Sprint
var _ oauth2.Config
