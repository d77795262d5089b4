//go:build unix

package lock

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// waitLock takes the exclusive lock on path, trying again every retryDelay
// until ctx ends. The lock file is opened once and stays open while this
// process waits, so the wait can be seen from outside (the process holds
// the file, as lsof and /proc show), and a file replaced under the waiter
// is not reopened on every try. gofrs/flock, used where there is no flock
// system call, closes the file after every failed try.
func waitLock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|noFollow, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, err
		}
		t := time.NewTimer(retryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			_ = f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
