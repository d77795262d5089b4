//go:build !linux

package keycache

import (
	"os"
	"time"

	"github.com/stellaops/stella/ports"
)

// Only Linux has the kernel keyring: elsewhere every command derives the
// key (or reads the keychain) as before.
var notLinux = unavailable{"the kernel key cache exists on Linux only"}

func geteuid() int { return os.Geteuid() }

// Get always reports the cache unavailable.
func (c *Cache) Get(string) ([]byte, time.Time, error) { return nil, time.Time{}, notLinux }

// Put always reports the cache unavailable.
func (c *Cache) Put(string, []byte) (time.Time, error) { return time.Time{}, notLinux }

// Drop has nothing to drop.
func (c *Cache) Drop(string) error { return nil }

// Report says there is no key cache.
func (c *Cache) Report(bool) (ports.KeyCacheReport, error) {
	return ports.KeyCacheReport{TTL: c.ttl, Unavailable: notLinux.Error()}, nil
}
