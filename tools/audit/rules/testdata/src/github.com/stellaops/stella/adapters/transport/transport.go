package transport

import (
	"net/http"

	"github.com/stellaops/stella/adapters/auth" // want `audit\(layer-adapter\): adapters/transport must not import another adapter`
	"github.com/stellaops/stella/domain"
)

// Embedded carries the raw token through an embedded struct.
type Embedded struct { // want `audit\(raw-credential\)`
	*auth.RawToken // want `audit\(raw-credential\)`
}

func build(s domain.Secret) *http.Transport {
	_ = s.Reveal() // transport puts tokens on the wire: allowed
	return &http.Transport{}
}
