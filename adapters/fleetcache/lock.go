package fleetcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stellaops/stella/domain"
)

// release deletes the lock only while it still holds our owner value: a
// holder whose lock expired (it took longer than LockTTL) must not free the
// lock another process took since. Made on first use: NewScript hashes the
// script (SHA-1), which as a package variable every stella start paid for.
var release = sync.OnceValue(func() *redis.Script {
	return redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
})

var errLockTimeout = errors.New("another runner held the lock too long")

// pollEvery is how often a waiter tries the lock again; jittered, so a
// fleet that started together does not knock in step.
const pollEvery = 25 * time.Millisecond

// Lock serialises getting a new token across every host that shares the
// cache: SET NX PX with a random owner, so exactly one runner asks the
// Authority while the others wait and then re-read the entry it saved. A
// holder that dies frees the lock when it expires. A lock that cannot be
// taken within LockTTL (plus a little), or a cache that fails, is bypassed:
// this process then gets its own token, as it would without the cache.
func (s *Store) Lock(ctx context.Context, key domain.SessionKey) (func(), error) {
	noop := func() {}
	ok, err := s.use()
	if err != nil {
		return nil, err
	}
	if !ok || key != s.cfg.Key {
		return noop, nil // in-process single flight is the TokenManager's
	}
	owner, err := ownerValue()
	if err != nil {
		return nil, err
	}
	// Wait at most as long as a holder may take (a dead one's lock expires
	// by then), and never more than half the time this command has left:
	// the other half is for asking the Authority ourselves.
	bound := s.cfg.LockTTL + 2*pollEvery
	if dl, ok := ctx.Deadline(); ok {
		bound = min(bound, time.Until(dl)/2)
	}
	give := time.Now().Add(bound)
	for {
		octx, cancel := s.op(ctx)
		got, err := s.client.SetNX(octx, s.keys.lock, owner, s.cfg.LockTTL).Result()
		cancel()
		switch {
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, ctx.Err() // interrupted
		case err != nil && time.Now().After(give):
			s.bypass(fmt.Errorf("%w (%s)", errLockTimeout, bound.Round(time.Millisecond)))
			return noop, nil
		case err != nil:
			s.bypass(err)
			return noop, nil
		case got:
			return func() { s.unlock(owner) }, nil
		}
		if time.Now().After(give) {
			s.bypass(fmt.Errorf("%w (%s)", errLockTimeout, bound.Round(time.Millisecond)))
			return noop, nil
		}
		jitter, _ := rand.Int(rand.Reader, big.NewInt(int64(pollEvery)))
		t := time.NewTimer(pollEvery/2 + time.Duration(jitter.Int64()))
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				s.bypass(fmt.Errorf("%w (%s)", errLockTimeout, bound.Round(time.Millisecond)))
				return noop, nil
			}
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// unlock runs even when the command's context has ended, so a lock is not
// left to expire after a normal finish.
func (s *Store) unlock(owner string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
	defer cancel()
	if err := release().Run(ctx, s.client, []string{s.keys.lock}, owner).Err(); err != nil && !errors.Is(err, redis.Nil) {
		s.cfg.Log.Debug("could not release the shared cache lock; it expires by itself", "error", domain.Printable(err.Error(), 200))
	}
}

// ownerValue names the holder for `auth status` (host and process) and
// makes it unique (random), so only the holder can release it.
func ownerValue() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	if len(host) > 64 {
		host = host[:64]
	}
	return fmt.Sprintf("%s pid %d %s", host, os.Getpid(), hex.EncodeToString(b)), nil
}
