package filestore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// KeyCache keeps keys outside the process for a short while (the kernel
// keyring, adapters/keycache). Get returns an error matching
// domain.ErrNotFound when it holds nothing under a name; any other error
// means there is no cache to use here, and the store works without one.
// With a TTL of 0 the store neither reads nor keeps keys, but still drops
// what an earlier run kept (sign-out must not leave a key behind because
// the cache was turned off since).
type KeyCache interface {
	TTL() time.Duration
	Get(name string) (value []byte, until time.Time, err error)
	Put(name string, value []byte) (until time.Time, err error)
	Drop(name string) error
}

var _ ports.KeyCacheReporter = (*Store)(nil)

// cachedKey is the answer of one key-cache lookup.
type cachedKey struct {
	k     []byte // nil: nothing usable
	until time.Time
	used  bool // the key came from the cache: do not put it back (that would extend its life)
}

// saltID names a derived key among the store's own: by salt and parameters.
func saltID(salt []byte, p KDFParams) string { return fmt.Sprintf("%x/%d/%d/%d", salt, p.N, p.R, p.P) }

// cacheName is what a file's key is kept under in the key cache: the
// cache directory and the file's salt and parameters (a passphrase key),
// or the session's keychain item (a data key). The key cache hashes it
// with the user's id; it never leaves the process as is.
func (s *Store) cacheName(h header, key domain.SessionKey) string {
	dir, err := filepath.Abs(s.cfg.Dir)
	if err != nil {
		dir = s.cfg.Dir
	}
	dir = filepath.Clean(dir)
	if h.KDF == kdfKeychain {
		return "keychain\x00" + dir + "\x00" + s.cfg.DataKeys.Service() + "\x00" + key.ID()
	}
	return fmt.Sprintf("scrypt\x00%s\x00%s", dir, saltID(h.Salt, KDFParams{h.N, h.R, h.P}))
}

// verifier binds a cached passphrase key to the passphrase it came from,
// so a changed STELLA_CACHE_PASSPHRASE is noticed without a derivation:
// HMAC-SHA256 keyed with the derived key. It tells nothing to anyone who
// does not already hold the key itself; whoever does (the entry sits
// beside it) could test passphrase guesses at HMAC speed instead of
// scrypt's — the README's security section says so.
func verifier(k []byte, passphrase domain.Secret) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("stella file-store passphrase verifier\x00"))
	m.Write([]byte(passphrase.Reveal()))
	return m.Sum(nil)
}

// fromCache returns the key the key cache holds for a file, and until
// when, or nil. A passphrase key is only taken when it was derived from
// the passphrase configured now; one from another passphrase is dropped.
// Without a configured passphrase (it would be asked for), the file's own
// authentication decides: Load drops a key that does not open it.
func (s *Store) fromCache(ctx context.Context, h header, key domain.SessionKey) ([]byte, time.Time) {
	if !s.cacheOn() {
		return nil, time.Time{}
	}
	name := s.cacheName(h, key)
	s.mu.Lock()
	c, asked := s.cached[name]
	s.mu.Unlock()
	if asked {
		return c.k, c.until
	}
	v, until, err := s.cfg.KeyCache.Get(name)
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		s.setStatus(key, ports.KeyCacheStatus{State: ports.KeyCacheUnavailable, Detail: err.Error()})
	case h.KDF == kdfKeychain && len(v) == keyLen:
		c = cachedKey{k: v, until: until, used: true}
	case h.KDF == kdfScrypt && len(v) == keyLen+sha256.Size:
		c = cachedKey{k: v[:keyLen], until: until, used: true}
		if s.cfg.PassphraseAtHand && s.cfg.Passphrase != nil {
			pp, perr := s.cfg.Passphrase(ctx)
			if perr != nil || !hmac.Equal(v[keyLen:], verifier(c.k, pp)) {
				// A passphrase change: the old key must not keep opening
				// files the new passphrase is meant to guard.
				s.cfg.Log.Debug("key cache: the cached key was derived from another passphrase than the one configured; dropped it")
				_ = s.cfg.KeyCache.Drop(name)
				c = cachedKey{}
			}
		}
	default:
		_ = s.cfg.KeyCache.Drop(name) // not a stella key of this kind
	}
	s.mu.Lock()
	s.cached[name] = c
	s.mu.Unlock()
	return c.k, c.until
}

// putCached offers a key that has just opened or sealed a file to the key
// cache. A key that came from the cache is not put back: its life counts
// from the derivation, not from each use.
func (s *Store) putCached(ctx context.Context, h header, key domain.SessionKey, k []byte) {
	if !s.cacheOn() {
		return
	}
	name := s.cacheName(h, key)
	s.mu.Lock()
	c := s.cached[name]
	pp := s.passphrase
	s.mu.Unlock()
	if c.used && string(c.k) == string(k) {
		return
	}
	v := append([]byte(nil), k...)
	if h.KDF == kdfScrypt {
		if pp == nil {
			return // the key did not come from a passphrase this process holds
		}
		v = append(v, verifier(k, *pp)...)
	}
	until, err := s.cfg.KeyCache.Put(name, v)
	clear(v)
	if err != nil {
		s.setStatus(key, ports.KeyCacheStatus{State: ports.KeyCacheUnavailable, Detail: err.Error()})
		return
	}
	s.mu.Lock()
	s.cached[name] = cachedKey{k: k, until: until, used: true}
	s.kcStatus[key.ID()] = ports.KeyCacheStatus{State: ports.KeyCacheSaved, Until: until}
	s.mu.Unlock()
}

// dropCached removes a file's key from the key cache (sign-out, or a
// cached key that no longer opens the file).
func (s *Store) dropCached(h header, key domain.SessionKey) {
	if s.cfg.KeyCache == nil {
		return
	}
	name := s.cacheName(h, key)
	if err := s.cfg.KeyCache.Drop(name); err != nil {
		s.cfg.Log.Debug("key cache: could not drop a key", "reason", err.Error())
	}
	s.mu.Lock()
	s.cached[name] = cachedKey{}
	delete(s.kcStatus, key.ID())
	s.mu.Unlock()
}

// cacheOn reports whether keys are read from and kept in the key cache.
func (s *Store) cacheOn() bool { return s.cfg.KeyCache != nil && s.cfg.KeyCache.TTL() > 0 }

func (s *Store) setStatus(key domain.SessionKey, st ports.KeyCacheStatus) {
	s.mu.Lock()
	s.kcStatus[key.ID()] = st
	s.mu.Unlock()
}

// KeyCacheStatus says whether the key that opened key's session came from
// the key cache, and until when it is kept there.
func (s *Store) KeyCacheStatus(key domain.SessionKey) ports.KeyCacheStatus {
	if !s.cacheOn() {
		return ports.KeyCacheStatus{State: ports.KeyCacheOff, Detail: "KeyCacheTTL is 0"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kcStatus[key.ID()]
}
