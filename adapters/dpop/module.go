package dpop

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the DPoP prover and the process's nonce memory.
var Module = fx.Module("dpop", fx.Provide(
	fx.Annotate(New, fx.As(new(ports.Prover))),
	fx.Annotate(NewNonces, fx.As(new(ports.NonceMemory))),
))
