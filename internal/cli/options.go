package cli

import (
	"context"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/clock"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/ports"
)

// Options are what a program running stella in-process may change. The
// zero value is the stella binary; the testscripts' stand-in is the one
// program that sets anything.
type Options struct {
	// Clock, when set, replaces the system clock wherever stella reads the
	// time to decide something: token expiry and the refresh lead, DPoP
	// proofs and nonces, the key and keychain caches, the session files'
	// times. Waits still take real time (ports.Sleeper is left alone), so
	// a clock that runs ahead of the system's by a fixed offset lets a
	// test cross a lifetime without sleeping through it.
	Clock ports.Clock
}

// MainWith is Main with Options.
func MainWith(ctx context.Context, args []string, stdio term.IO, opts Options) int {
	return runWith(ctx, args, stdio, opts)
}

// systemClock is the clock of this invocation: Options.Clock, or the
// system's. The hand-built token path (tokenfast.go) takes it; the fx
// graph gets the same through Options.fx.
func (rt *Runtime) systemClock() ports.Clock {
	if rt.opts.Clock != nil {
		return rt.opts.Clock
	}
	return clock.System{}
}

// fx puts Options.Clock in place of the clock the graph provides
// (clock.Module), for every constructor that takes a ports.Clock.
func (o Options) fx() fx.Option {
	if o.Clock == nil {
		return fx.Options()
	}
	return fx.Decorate(func(ports.Clock) ports.Clock { return o.Clock })
}
