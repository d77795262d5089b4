package ports

import (
	"context"
	"time"

	"github.com/stellaops/stella/domain"
)

// KeyCacheState says where the key that opened a session came from, with
// respect to the short-lived key cache of SPEC §5 (KeyCacheTTL).
type KeyCacheState string

const (
	// KeyCacheUsed: the key came from the cache; nothing was derived or
	// read from the keychain.
	KeyCacheUsed KeyCacheState = "used"
	// KeyCacheSaved: the key was derived (or read from the keychain) and
	// is now in the cache, so the next command within the TTL skips that.
	KeyCacheSaved KeyCacheState = "saved"
	// KeyCacheOff: KeyCacheTTL is 0.
	KeyCacheOff KeyCacheState = "off"
	// KeyCacheUnavailable: the kernel refuses keyrings (seccomp in a
	// container, no keyring support), or the cache is not ours to use;
	// Detail says why. Everything works as without a cache.
	KeyCacheUnavailable KeyCacheState = "unavailable"
)

// KeyCacheStatus is what `auth status` says about one session's key. The
// zero value (no State) means nothing is known: the session was not
// opened.
type KeyCacheStatus struct {
	State  KeyCacheState
	Until  time.Time // when the cached key expires (used, saved)
	Detail string
}

// KeyCacheReporter is a session store whose key may come from the key
// cache; `auth status` asks it after loading a session.
type KeyCacheReporter interface {
	KeyCacheStatus(key domain.SessionKey) KeyCacheStatus
}

// KeyCacheReport is `auth doctor`'s view of the key cache.
type KeyCacheReport struct {
	Off         bool          // KeyCacheTTL is 0
	Unavailable string        // why the kernel's keyring cannot be used; empty when it can
	Where       string        // which keyring holds the keys
	TTL         time.Duration // KeyCacheTTL
	Cached      int           // keys of this user in that keyring now
	Forgotten   int           // keys dropped by this run (--forget-keys)
}

// KeyCacheInspector is a StorageInspector that can also report on the key
// cache and, for `auth doctor --forget-keys`, drop every key in it. It is
// a separate interface so inspectors without a key cache need nothing new.
type KeyCacheInspector interface {
	KeyCache(ctx context.Context, forget bool) (KeyCacheReport, error)
}
