package app

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides every use case and the TokenManager. fx builds only what
// a command asks for, so a command that needs no Authority builds none.
var Module = fx.Module("app",
	fx.Provide(
		NewTokenManager,
		func(m *TokenManager) ports.TokenSource { return m },
		NewLogin,
		NewLogout,
		NewStatus,
		NewWhoami,
		NewAPI,
	),
)
