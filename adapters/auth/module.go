package auth

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the Authority port.
func Module() fx.Option {
	return fx.Module("auth", fx.Provide(
		New,
		func(a *Authority) ports.Authority { return a },
		func(a *Authority) ports.InteractiveAuthority { return a },
	))
}
