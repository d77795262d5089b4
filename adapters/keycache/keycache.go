// Package keycache keeps the key that opens the file store — derived from
// the passphrase with scrypt, or read from the OS keychain — in the Linux
// kernel keyring for KeyCacheTTL (SPEC §5), so the next command within
// that time neither asks for the passphrase again nor pays for scrypt or a
// D-Bus round trip. It is what ssh-agent and gpg-agent do, without a
// daemon: the kernel holds the key in its own memory, per user session,
// and throws it away when the timeout passes.
//
// Where the keys live. In the session keyring of the process (`keyctl show
// @s`): the one a login joined (pam_keyinit), or, where none was joined
// (SSH without pam_keyinit, containers, CI), the user's default session
// keyring `_uid_ses.<uid>`, which every process of that user without a
// session keyring of its own shares. stella never creates a session
// keyring: one made by a stella process would end with it. Inside that
// keyring, each user's keys sit in a keyring of their own,
// `stella-keys.<uid>`, that only its owner may search or read (no
// possessor rights); the keys in it may be read only by a possessor. So
// reading a key takes both: being in that session and being that user. A
// process that changed its uid but kept the session keyring cannot read
// them; neither can the same user from another session.
//
// Names. An entry's description is a hash over the uid and what the store
// says the key is for (the cache directory, the file's salt and KDF
// parameters, or the session's keychain item), so entries cannot be
// confused across users, cache directories or files, and say nothing about
// them. What the key was derived from is checked by the store (a
// passphrase verifier beside the key, and the file's own authentication).
// Nothing here ever touches a disk or a log.
//
// Where the kernel refuses (seccomp profiles of container runtimes answer
// keyctl with EPERM or ENOSYS), every call returns an error wrapping
// ErrUnavailable and the store works exactly as without a cache; the
// reason is logged at -v once.
package keycache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// ErrUnavailable marks every failure that means "no key cache here": the
// kernel refuses keyrings, the platform has none, or the keyring is not
// ours to use. Callers fall back to deriving the key.
var ErrUnavailable = errors.New("the kernel key cache is not available")

// unavailable is an ErrUnavailable with the reason.
type unavailable struct{ why string }

func (u unavailable) Error() string { return u.why }
func (u unavailable) Is(target error) bool {
	return target == ErrUnavailable
}

// Cache is the kernel-keyring key cache of one process.
type Cache struct {
	ttl time.Duration
	log *slog.Logger
	uid int
	now func() time.Time

	mu        sync.Mutex
	ring      int // stella-keys.<uid>, once found or made; 0 before
	sess      int // the session keyring, once resolved
	where     string
	refused   error // why the kernel's keyring cannot be used, once known
	logged    bool
	forgotten bool // --forget-keys ran: keep nothing more in this process
}

// New returns a cache whose entries live for ttl (rounded up to whole
// seconds, the kernel's unit). It does no system call.
func New(ttl time.Duration, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rem := ttl % time.Second; rem != 0 {
		ttl += time.Second - rem
	}
	return &Cache{ttl: ttl, log: log, uid: geteuid(), now: time.Now}
}

// TTL is how long entries live.
func (c *Cache) TTL() time.Duration { return c.ttl }

// description names an entry: a hash over the uid and the store's name
// for it. The name itself (a directory, a salt) never reaches the kernel.
func (c *Cache) description(name string) string {
	h := sha256.New()
	h.Write([]byte("stella keycache v1\x00"))
	h.Write([]byte(strconv.Itoa(c.uid)))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return keyPrefix + hex.EncodeToString(h.Sum(nil)[:16])
}

// keyPrefix starts the description of every entry.
const keyPrefix = "stella:"

// ringName is the keyring that holds one user's entries.
func ringName(uid int) string { return "stella-keys." + strconv.Itoa(uid) }

// payload is what an entry holds: a version, the expiry (for `auth status`;
// the kernel enforces it), then the value.
const payloadVersion = 1

func encode(until time.Time, value []byte) []byte {
	b := make([]byte, 9, 9+len(value))
	b[0] = payloadVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(until.Unix()))
	return append(b, value...)
}

func decode(b []byte) (time.Time, []byte, bool) {
	if len(b) < 9 || b[0] != payloadVersion {
		return time.Time{}, nil, false
	}
	return time.Unix(int64(binary.BigEndian.Uint64(b[1:9])), 0), b[9:], true
}

// logRefusal says once, at -v, why there is no key cache.
func (c *Cache) logRefusal(err error) {
	c.mu.Lock()
	first := !c.logged
	c.logged = true
	c.mu.Unlock()
	if first {
		c.log.Debug("key cache not available; the key is derived (or read from the keychain) as without it", "reason", err.Error())
	}
}
