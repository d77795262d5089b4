package cli

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// interruptible is a command's context: Ctrl-C and SIGTERM cancel it, so
// that waits end cleanly (exit 130). Its signal watcher starts the first
// time something waits on it — calls Done, as every select on the context
// and every context derived from it does — because os/signal costs three
// threads (a locked one, the template thread, and one blocked receiving),
// which is a tenth of a command that only prints what it has, like `auth
// token` with a valid session. Until then a signal has its default
// effect, and there is nothing to end cleanly: no wait has begun.
type interruptible struct {
	parent context.Context
	once   sync.Once
	armed  atomic.Bool // ctx and stop are set
	ctx    context.Context
	stop   context.CancelFunc
}

func newInterruptible(parent context.Context) *interruptible {
	return &interruptible{parent: parent}
}

// watch starts the signal watcher, once, and returns the context it
// cancels.
func (c *interruptible) watch() context.Context {
	c.once.Do(func() {
		c.ctx, c.stop = signal.NotifyContext(c.parent, os.Interrupt, syscall.SIGTERM)
		c.armed.Store(true)
	})
	if !c.armed.Load() {
		return c.parent // closed before anything waited
	}
	return c.ctx
}

// close stops the watcher, if it started, and keeps it from starting.
func (c *interruptible) close() {
	c.once.Do(func() {})
	if c.armed.Load() {
		c.stop()
	}
}

func (c *interruptible) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *interruptible) Done() <-chan struct{}       { return c.watch().Done() }

func (c *interruptible) Err() error {
	if c.armed.Load() {
		return c.ctx.Err()
	}
	return c.parent.Err()
}

// Value answers from the watcher's context once it runs, so that a
// context derived from this one finds its cancellation (context.Cause,
// and the standard library's propagation without a goroutine).
func (c *interruptible) Value(key any) any {
	if c.armed.Load() {
		return c.ctx.Value(key)
	}
	return c.parent.Value(key)
}
