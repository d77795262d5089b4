//go:build !unix

package lock

import (
	"context"
	"os"

	"github.com/gofrs/flock"
)

// waitLock takes the exclusive lock on path with gofrs/flock, trying again
// every retryDelay until ctx ends.
func waitLock(ctx context.Context, path string) (func(), error) {
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR|noFollow), flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, retryDelay)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ctx.Err()
	}
	return func() { _ = fl.Unlock() }, nil
}
