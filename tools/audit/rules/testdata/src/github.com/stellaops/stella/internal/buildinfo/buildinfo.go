// Package buildinfo is in no layer: it still may not import an adapter.
package buildinfo

import (
	"github.com/stellaops/stella/adapters/dpop" // want `audit\(composition-root\): only cmd/stella, internal/cli may import adapters`
	"github.com/stellaops/stella/domain"
)

var _ = dpop.Key
var _ domain.Secret
