package transport

import (
	"net/http"

	"github.com/stellaops/stella/adapters/auth" // want `audit\(layer-adapter\).*adapters/transport imports github.com/stellaops/stella/adapters/auth`
	"github.com/stellaops/stella/domain"
)

// Embedded carries the raw token through an embedded struct.
type Embedded struct {
	*auth.RawToken // want `audit\(raw-token\)`
	Name           string
}

func build(s domain.Secret) *http.Transport {
	_ = s.Reveal() // transport puts tokens on the wire: allowed
	_ = http.DefaultTransport.(*http.Transport).Clone()
	return &http.Transport{}
}
