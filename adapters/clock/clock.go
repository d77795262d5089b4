// Package clock is the system clock behind ports.Clock.
package clock

import (
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// System reads the operating system's clock.
type System struct{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now() }

var _ ports.Clock = System{}

// Module provides the system clock.
var Module = fx.Module("clock", fx.Provide(func() ports.Clock { return System{} }))
