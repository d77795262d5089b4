package fleetcache

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Describe looks at the cache for `auth status` and `auth doctor`: whether
// it answers, this client's entry (its age, and when the cache drops it),
// and who holds the lock. Each step is bounded by OpTimeout.
func (s *Store) Describe(ctx context.Context, key domain.SessionKey) ports.SharedCacheState {
	st := ports.SharedCacheState{Location: domain.RedactCacheURL(s.cfg.URL)}
	if u, _, err := domain.ParseCacheURL(s.cfg.URL); err == nil {
		st.Mode = u.Mode()
	}
	s.mu.Lock()
	st.Bypassed = s.bypassed
	s.mu.Unlock()
	if err := s.init(); err != nil {
		st.Problem = domain.Printable(err.Error(), 300)
		return st
	}
	octx, cancel := s.op(ctx)
	err := s.client.Ping(octx).Err()
	cancel()
	if err != nil {
		st.Problem = domain.Printable(describe(err), 300)
		return st
	}
	st.Reachable = true
	if key != s.cfg.Key {
		return st
	}
	sess, found, err := s.fetch(ctx)
	switch {
	case isEntryError(err):
		st.Entry, st.EntryError = true, domain.Printable(err.Error(), 300)
	case err != nil:
		st.Problem = domain.Printable(describe(err), 300)
		return st
	case found:
		st.Entry = true
		st.EntryAge = s.cfg.Now().Sub(sess.Access.IssuedAt)
	}
	octx, cancel = s.op(ctx)
	defer cancel()
	if st.Entry {
		if ttl, err := s.client.PTTL(octx, s.keys.entry).Result(); err == nil && ttl > 0 {
			st.EntryTTL = ttl
		}
	}
	if holder, err := s.client.Get(octx, s.keys.lock).Result(); err == nil {
		st.LockHolder = domain.Printable(holder, 120)
	} else if !errors.Is(err, redis.Nil) {
		st.Problem = domain.Printable(describe(err), 300)
	}
	return st
}
