package transport

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Module provides the base transport (for every adapter that talks HTTP)
// and the authenticated backend client.
func Module() fx.Option {
	return fx.Module("transport",
		fx.Provide(
			NewBase,
			func(b *Base) ports.HTTPBase { return b },
			func(b *Base) ports.ClientCertificate { return b },
			NewAuthenticated,
			func(s domain.Settings, a *Authenticated, b domain.BuildInfo) ports.Backend {
				return NewBackend(s, a, b)
			},
			func(s domain.Settings, base ports.HTTPBase, c ports.CredentialHeaders, b domain.BuildInfo) ports.Streamer {
				return NewStreams(s, base, c, b)
			},
		),
	)
}
