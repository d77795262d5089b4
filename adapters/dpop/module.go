package dpop

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the DPoP prover and the process's nonce memory.
// (Plain constructors rather than fx.Annotate: annotation builds functions
// by reflection at every start.)
func Module() fx.Option {
	return fx.Module("dpop", fx.Provide(
		func(c ports.Clock) ports.Prover { return New(c) },
		func(c ports.Clock) ports.NonceMemory { return NewClockedNonces(c) },
	))
}
