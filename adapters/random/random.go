// Package random is the source of unguessable values: state, nonce and
// PKCE verifiers, from crypto/rand.
package random

import (
	"crypto/rand"
	"encoding/base64"

	"go.uber.org/fx"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Source reads the operating system's CSPRNG.
type Source struct{}

var _ ports.Random = Source{}

// Token returns n random bytes, base64url-encoded without padding.
func (Source) Token(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", domain.Wrap(domain.KindUnexpected, err, "the system's random source failed", "")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Module provides the random source.
func Module() fx.Option {
	return fx.Module("random", fx.Provide(func() ports.Random { return Source{} }))
}
