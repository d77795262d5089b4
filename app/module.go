package app

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides every use case and the TokenManager. fx builds only what
// a command asks for, so a command that needs no Authority builds none.
func Module() fx.Option {
	return fx.Module("app",
		fx.Provide(
			NewTokenManager,
			func(a ports.InteractiveAuthority, l ports.RedirectListener, b ports.Browser, r ports.Random, s ports.Sleeper, c ports.Console) Interactive {
				return Interactive{Authority: a, Listener: l, Browser: b, Random: r, Sleeper: s, Console: c}
			},
			func(m *TokenManager) ports.TokenSource { return m },
			NewLogin,
			NewLogout,
			NewStatus,
			NewWhoami,
			NewAPI,
			NewPackApprove,
			NewStream,
			NewHeader,
			NewDoctor,
		),
	)
}
