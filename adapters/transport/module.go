package transport

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the base transport (for every adapter that talks HTTP)
// and the authenticated backend client.
var Module = fx.Module("transport",
	fx.Provide(
		fx.Annotate(NewBase, fx.As(new(ports.HTTPBase))),
		NewAuthenticated,
		fx.Annotate(NewBackend, fx.As(new(ports.Backend))),
	),
)
