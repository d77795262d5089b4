// Package wire is a sub-package of adapters/auth: the same adapter.
package wire

import "golang.org/x/oauth2"

// Form keeps raw tokens: adapters/auth/... owns them.
type Form struct {
	Password string
	Tok      *oauth2.Token
}
