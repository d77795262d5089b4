// Package clock is the system clock behind ports.Clock.
package clock

import (
	"context"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/ports"
)

// System reads the operating system's clock.
type System struct{}

// Now returns the current time.
func (System) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (System) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	_ ports.Clock   = System{}
	_ ports.Sleeper = System{}
)

// Module provides the system clock and sleeper.
func Module() fx.Option {
	return fx.Module("clock", fx.Provide(
		func() ports.Clock { return System{} },
		func() ports.Sleeper { return System{} },
	))
}
