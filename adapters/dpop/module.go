package dpop

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the DPoP prover, the process's nonce memory and the
// credential headers built with both.
// (Plain constructors rather than fx.Annotate: annotation builds functions
// by reflection at every start.)
func Module() fx.Option {
	return fx.Module("dpop", fx.Provide(
		New,
		func(p *Prover) ports.Prover { return p },
		func(c ports.Clock) ports.NonceMemory { return NewClockedNonces(c) },
		func(p *Prover, n ports.NonceMemory) ports.CredentialHeaders { return NewCredentials(p, n) },
	))
}
