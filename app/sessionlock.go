package app

import (
	"context"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// lockWait bounds how long a process waits for another one that is
// refreshing or signing in the same session.
const lockWait = 30 * time.Second

// withSessionLock runs fn holding the session's cross-process lock, waiting
// at most wait for it. A wait that ended because ctx did (Ctrl-C, SIGTERM)
// is reported as ctx's error, so it reads as an interruption, not as a lock
// that could not be had. The lock is released when fn returns.
func withSessionLock[T any](ctx context.Context, locker ports.SessionLocker, key domain.SessionKey, wait time.Duration,
	fn func() (T, error)) (T, error) {
	var zero T
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel() // after fn: a locker may tie the held lock to lctx
	unlock, err := locker.Lock(lctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		return zero, err
	}
	defer unlock()
	return fn()
}
