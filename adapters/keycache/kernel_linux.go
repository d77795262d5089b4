//go:build linux

package keycache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Permissions (keyctl_setperm(2)): bits 24-29 for a possessor, 16-21 for
// the owning user, then group and other.
const (
	permView    = 0x01
	permRead    = 0x02
	permWrite   = 0x04
	permSearch  = 0x08
	permLink    = 0x10
	permSetattr = 0x20
	posShift    = 24
	usrShift    = 16

	// ringPerm: the owner may do anything with the keyring of stella's
	// keys; a possessor that is not the owner (a process that kept the
	// session keyring across a change of uid) nothing, so it cannot reach
	// the keys inside.
	ringPerm = (permView | permRead | permWrite | permSearch | permLink | permSetattr) << usrShift
	// keyPerm: a key may be viewed, read, updated, found and given a
	// timeout by a possessor only — a process of this session that can
	// reach it through the owner-only keyring above. Nobody may link it
	// elsewhere, where other rules would apply.
	keyPerm = (permView | permRead | permWrite | permSearch | permSetattr) << posShift
)

func geteuid() int { return os.Geteuid() }

// refusal turns an errno from the kernel into the reason there is no key
// cache.
func refusal(what string, err error) error {
	var why string
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		why = "the kernel refuses keyrings here (" + what + ": " + err.Error() + "; container runtimes' seccomp profiles do this)"
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		why = "this kernel offers no keyrings (" + what + ": " + err.Error() + ")"
	default:
		why = "the kernel keyring cannot be used (" + what + ": " + err.Error() + ")"
	}
	return unavailable{why}
}

// missing reports errors that mean "no such entry (any more)".
func missing(err error) bool {
	return errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYEXPIRED) || errors.Is(err, unix.EKEYREVOKED)
}

type keyDesc struct {
	typ  string
	uid  int
	perm uint32
	desc string
}

func describe(id int) (keyDesc, error) {
	s, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return keyDesc{}, err
	}
	f := strings.SplitN(s, ";", 5)
	if len(f) != 5 {
		return keyDesc{}, fmt.Errorf("unexpected key description %q", s)
	}
	uid, err1 := strconv.Atoi(f[1])
	perm, err2 := strconv.ParseUint(f[3], 16, 32)
	if err1 != nil || err2 != nil {
		return keyDesc{}, fmt.Errorf("unexpected key description %q", s)
	}
	return keyDesc{typ: f[0], uid: uid, perm: uint32(perm), desc: f[4]}, nil
}

// children lists the keys linked directly in a keyring.
func children(ring int) ([]int, error) {
	buf := make([]byte, 64*4)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, ring, buf, 0)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			ids := make([]int, 0, n/4)
			for i := 0; i+4 <= n; i += 4 {
				ids = append(ids, int(int32(binary.NativeEndian.Uint32(buf[i:]))))
			}
			return ids, nil
		}
		buf = make([]byte, n)
	}
}

// session resolves the session keyring (see the package comment) without
// ever creating one; c.mu is held.
func (c *Cache) session() (int, error) {
	if c.sess != 0 || c.refused != nil {
		return c.sess, c.refused
	}
	// create=false: with no session keyring joined, the kernel answers
	// with the user's default session keyring instead of making one that
	// would end with this process.
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		c.refused = refusal("keyctl(KEYCTL_GET_KEYRING_ID, @s)", err)
		return 0, c.refused
	}
	c.sess = id
	c.where = "session keyring"
	if d, err := describe(id); err == nil {
		if strings.HasPrefix(d.desc, "_uid_ses.") {
			c.where = "default session keyring " + d.desc + " (no session keyring was joined)"
		} else {
			c.where = "session keyring " + d.desc
		}
	}
	return id, nil
}

// keyring finds the keyring of this user's entries directly in the
// session keyring, making it when create is set; 0 without error when
// there is none yet. c.mu is held.
func (c *Cache) keyring(create bool) (int, error) {
	if c.ring != 0 {
		return c.ring, nil
	}
	sess, err := c.session()
	if err != nil {
		return 0, err
	}
	ids, err := children(sess)
	if err != nil {
		c.refused = refusal("keyctl(KEYCTL_READ, @s)", err)
		return 0, c.refused
	}
	name := ringName(c.uid)
	for _, id := range ids {
		d, err := describe(id)
		if err != nil || d.typ != "keyring" || d.desc != name {
			continue
		}
		// Someone else's keyring under our name (a process of another uid
		// sharing this session keyring can link one): putting keys in it
		// would hand them over.
		if d.uid != c.uid || d.perm != ringPerm {
			c.refused = unavailable{fmt.Sprintf("the keyring %s in the %s is not stella's (owner %d, permissions %08x); run `keyctl unlink %d @s`", name, c.where, d.uid, d.perm, id)}
			return 0, c.refused
		}
		c.ring = id
		return id, nil
	}
	if !create {
		return 0, nil
	}
	id, err := unix.AddKey("keyring", name, nil, sess)
	if err != nil {
		c.refused = refusal("add_key(keyring)", err)
		return 0, c.refused
	}
	if err := unix.KeyctlSetperm(id, ringPerm); err != nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		c.refused = refusal("keyctl(KEYCTL_SETPERM)", err)
		return 0, c.refused
	}
	c.ring = id
	return id, nil
}

// Get returns the value kept under name and when it expires; an error
// matching domain.ErrNotFound when there is none, or one matching
// ErrUnavailable when the kernel refuses.
func (c *Cache) Get(name string) ([]byte, time.Time, error) {
	c.mu.Lock()
	ring, err := c.keyring(false)
	c.mu.Unlock()
	if err != nil {
		c.logRefusal(err)
		return nil, time.Time{}, err
	}
	if ring == 0 {
		return nil, time.Time{}, domain.ErrNotFound
	}
	desc := c.description(name)
	id, err := unix.KeyctlSearch(ring, "user", desc, 0)
	if err != nil {
		if missing(err) || errors.Is(err, unix.EACCES) {
			return nil, time.Time{}, domain.ErrNotFound
		}
		err = refusal("keyctl(KEYCTL_SEARCH)", err)
		c.logRefusal(err)
		return nil, time.Time{}, err
	}
	// Only an entry this user made, with the permissions stella gives,
	// is trusted: a planted key would otherwise seal the next session
	// with a key its planter knows.
	if d, err := describe(id); err != nil || d.uid != c.uid || d.perm != keyPerm || d.typ != "user" {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return nil, time.Time{}, domain.ErrNotFound
	}
	buf := make([]byte, 512)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil || n > len(buf) {
		return nil, time.Time{}, domain.ErrNotFound
	}
	until, value, ok := decode(buf[:n])
	if !ok || !until.After(c.now()) {
		return nil, time.Time{}, domain.ErrNotFound
	}
	out := bytes.Clone(value)
	clear(buf)
	return out, until, nil
}

// Put keeps value under name for the cache's TTL and returns when it
// expires.
func (c *Cache) Put(name string, value []byte) (time.Time, error) {
	if c.ttl <= 0 {
		return time.Time{}, unavailable{"KeyCacheTTL is 0: no key is kept"} // a timeout of 0 would mean forever
	}
	c.mu.Lock()
	if c.forgotten {
		c.mu.Unlock()
		return time.Time{}, unavailable{"the cached keys were just forgotten (--forget-keys); none is kept by this run"}
	}
	c.mu.Unlock()
	secs := int(c.ttl / time.Second)
	until := c.now().Add(c.ttl).Truncate(time.Second)
	p := encode(until, value)
	defer clear(p)
	var id int
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		ring, err := c.keyring(true)
		c.mu.Unlock()
		if err != nil {
			c.logRefusal(err)
			return time.Time{}, err
		}
		// The keyring expires no later than its newest key: should stella
		// die between adding a key and giving it a timeout, the key still
		// goes.
		_, _ = unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, ring, secs, 0, 0)
		id, err = unix.AddKey("user", c.description(name), p, ring)
		if err != nil && missing(err) && attempt == 0 {
			// The keyring's own timeout passed since this process found
			// it (a derivation takes a while): make a new one, once.
			c.mu.Lock()
			if c.ring == ring {
				c.ring = 0
			}
			c.mu.Unlock()
			continue
		}
		if err == nil {
			break
		}
		if errors.Is(err, unix.EDQUOT) {
			err = unavailable{"the kernel's key quota of this user is full (add_key: " + err.Error() + "; see /proc/sys/kernel/keys/maxkeys)"}
		} else {
			err = refusal("add_key(user)", err)
		}
		c.logRefusal(err)
		return time.Time{}, err
	}
	// Timeout first: adding to an existing entry (an update) clears it.
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0); err != nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return time.Time{}, refusal("keyctl(KEYCTL_SET_TIMEOUT)", err)
	}
	if err := unix.KeyctlSetperm(id, keyPerm); err != nil {
		_, _ = unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		return time.Time{}, refusal("keyctl(KEYCTL_SETPERM)", err)
	}
	c.log.Debug("key cache: key kept in the kernel keyring", "keyring", c.where, "until", until.Format(time.RFC3339))
	return until, nil
}

// Drop removes the entry kept under name; none is fine.
func (c *Cache) Drop(name string) error {
	c.mu.Lock()
	ring, err := c.keyring(false)
	c.mu.Unlock()
	if err != nil || ring == 0 {
		return err
	}
	id, err := unix.KeyctlSearch(ring, "user", c.description(name), 0)
	if err != nil {
		if missing(err) || errors.Is(err, unix.EACCES) {
			return nil
		}
		return refusal("keyctl(KEYCTL_SEARCH)", err)
	}
	return invalidate(id, ring)
}

// invalidate removes a key at once (KEYCTL_INVALIDATE, Linux 3.5), or at
// least takes it out of the ring.
func invalidate(id, ring int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err == nil || missing(err) {
		return nil
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0); err != nil && !missing(err) {
		return refusal("keyctl(KEYCTL_UNLINK)", err)
	}
	return nil
}

// Report says where keys are kept and how many this user has there now;
// with forget, it drops them all (every cache directory's) and keeps no
// more for the rest of this process.
func (c *Cache) Report(forget bool) (ports.KeyCacheReport, error) {
	rep := ports.KeyCacheReport{TTL: c.ttl}
	c.mu.Lock()
	if forget {
		c.forgotten = true
	}
	ring, err := c.keyring(false)
	rep.Where = c.where
	c.mu.Unlock()
	if err != nil {
		rep.Unavailable = err.Error()
		return rep, nil
	}
	if ring == 0 {
		return rep, nil
	}
	ids, err := children(ring)
	if err != nil {
		if missing(err) {
			return rep, nil
		}
		rep.Unavailable = refusal("keyctl(KEYCTL_READ)", err).Error()
		return rep, nil
	}
	for _, id := range ids {
		d, err := describe(id)
		if err != nil || d.typ != "user" || !strings.HasPrefix(d.desc, keyPrefix) {
			continue
		}
		if !forget {
			rep.Cached++
			continue
		}
		if err := invalidate(id, ring); err != nil {
			return rep, domain.Wrap(domain.KindStorage, err, "cannot drop a cached key from the kernel keyring",
				"Run `keyctl show @s`, then `keyctl unlink ID @s` for the stella-keys keyring.")
		}
		rep.Forgotten++
	}
	return rep, nil
}
