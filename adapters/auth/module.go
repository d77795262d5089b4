package auth

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// Module provides the Authority port.
var Module = fx.Module("auth", fx.Provide(fx.Annotate(New, fx.As(new(ports.Authority)))))
