package transport

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the base transport (for every adapter that talks HTTP)
// and the authenticated backend client.
var Module = fx.Module("transport",
	fx.Provide(
		NewBase,
		func(b *Base) ports.HTTPBase { return b },
		func(b *Base) ports.ClientCertificate { return b },
		NewAuthenticated,
		fx.Annotate(NewBackend, fx.As(new(ports.Backend))),
		fx.Annotate(NewStreams, fx.As(new(ports.Streamer))),
	),
)
