// Package lock serialises work on one session across processes with an OS
// file lock (flock(2); github.com/gofrs/flock where there is none) in the user's own token cache
// directory, and within a process with a mutex per session.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// retryDelay is how often a waiting process tries the lock again.
const retryDelay = 15 * time.Millisecond

// Locker takes per-session locks. OS locks die with their process, so a
// crashed holder never blocks anyone.
type Locker struct {
	dir   string
	local *InProcess
}

// New returns a Locker whose lock files live in dir; it does no I/O.
func New(dir string) *Locker { return &Locker{dir: dir, local: NewInProcess()} }

var _ ports.SessionLocker = (*Locker)(nil)

// Lock waits for the session's lock until ctx ends.
func (l *Locker) Lock(ctx context.Context, key domain.SessionKey) (func(), error) {
	// flock between two handles of one process is not reliable on every
	// platform, so goroutines queue on a mutex first.
	unlockLocal, err := l.local.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		unlockLocal()
		return nil, domain.Wrap(domain.KindStorage, err, "cannot create the token cache directory "+l.dir,
			"Check the permissions of the directory, or set STELLA_TOKEN_CACHE_DIR.")
	}
	// The directory is checked before the lock file is made in it (SPEC
	// §5): in a directory another user owns or can write, a planted file
	// or link would make stella create or truncate things for them. Only
	// refusal here; the store tightens a merely readable one, and says so.
	if err := checkDir(l.dir); err != nil {
		unlockLocal()
		return nil, err
	}
	path := filepath.Join(l.dir, key.ID()+".lock")
	start := time.Now()
	release, err := waitLock(ctx, path)
	if err != nil {
		unlockLocal()
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, domain.E(domain.KindStorage, "the lock file "+path+" is a symbolic link; stella does not follow links in the token cache",
				"Remove the link (someone else may have planted it) and try again.")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			return nil, domain.Wrap(domain.KindStorage, err, "cannot open the session lock "+path,
				"Check the token cache directory's permissions, or set STELLA_TOKEN_CACHE_DIR.")
		}
		return nil, domain.Wrap(domain.KindStorage, err,
			fmt.Sprintf("another stella process has held the session lock for %s", time.Since(start).Round(time.Second)),
			"Wait for the other stella command to finish, then try again.")
	}
	return func() {
		release()
		unlockLocal()
	}, nil
}

func checkDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return domain.Wrap(domain.KindStorage, err, "cannot read the token cache directory "+dir, "Check its permissions, or set STELLA_TOKEN_CACHE_DIR.")
	}
	_, err = domain.CheckCacheDir(dir, domain.DirFacts{IsDir: st.IsDir(), Perm: st.Mode().Perm(), Owner: ownerOf(st), EUID: euid()})
	return err
}

// InProcess is a per-session mutex for stores that only one process uses
// (the memory store).
type InProcess struct {
	mu    sync.Mutex
	slots map[domain.SessionKey]chan struct{}
}

// NewInProcess returns an in-process locker.
func NewInProcess() *InProcess { return &InProcess{slots: map[domain.SessionKey]chan struct{}{}} }

var _ ports.SessionLocker = (*InProcess)(nil)

// Lock waits for the session's slot until ctx ends.
func (l *InProcess) Lock(ctx context.Context, key domain.SessionKey) (func(), error) {
	l.mu.Lock()
	slot, ok := l.slots[key]
	if !ok {
		slot = make(chan struct{}, 1)
		l.slots[key] = slot
	}
	l.mu.Unlock()
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		return nil, domain.E(domain.KindStorage, "timed out waiting for the session lock held by another operation",
			"Try again when the other operation has finished.")
	}
}
