package filestore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// mapCache stands in for the kernel keyring (adapters/keycache runs
// against the real one; the scenarios in testscripts/testdata/keycache*
// run the binary against it).
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int
	err  error // every call fails with it: the kernel refusing
	ttl  time.Duration
}

func newCache() *mapCache { return &mapCache{m: map[string][]byte{}, ttl: time.Minute} }

func (c *mapCache) TTL() time.Duration { return c.ttl }

var until = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func (c *mapCache) Get(name string) ([]byte, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, time.Time{}, c.err
	}
	v, ok := c.m[name]
	if !ok {
		return nil, time.Time{}, domain.ErrNotFound
	}
	return bytes.Clone(v), until, nil
}

func (c *mapCache) Put(name string, v []byte) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return time.Time{}, c.err
	}
	c.puts++
	c.m[name] = bytes.Clone(v)
	return until, nil
}

func (c *mapCache) Drop(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
	return nil
}

func (c *mapCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// counted is a passphrase source that counts how often it is asked.
type counted struct {
	mu sync.Mutex
	p  string
	n  int
}

func (c *counted) get(context.Context) (domain.Secret, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return domain.NewSecret(c.p), nil
}

// logged collects the store's -v lines.
type logged struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logged) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logged) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

func cachedStore(dir string, cache filestore.KeyCache, pass *counted, atHand bool, log *logged) *filestore.Store {
	cfg := filestore.Config{Dir: dir, Passphrase: pass.get, PassphraseAtHand: atHand, KDF: fastKDF, KeyCache: cache}
	if log != nil {
		cfg.Log = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return filestore.New(cfg)
}

const derived = "derived the key from the passphrase"

func TestContractWithKeyCache(t *testing.T) {
	storetest.Run(t, "file+keycache", func(t *testing.T) ports.SessionStore {
		return cachedStore(t.TempDir(), newCache(), &counted{p: "pass"}, true, nil)
	})
}

func TestKeyCache(t *testing.T) {
	ctx := context.Background()
	sess := storetest.Session(key, 2<<10, 1)
	seal := func(t *testing.T, cache *mapCache) string {
		dir := t.TempDir()
		if err := cachedStore(dir, cache, &counted{p: "pass"}, true, nil).Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if cache.len() != 1 {
			t.Fatalf("the save left %d cached keys, want 1", cache.len())
		}
		return dir
	}
	t.Run("the next process asks for nothing and derives nothing", func(t *testing.T) {
		cache := newCache()
		dir := seal(t, cache)
		pass, log := &counted{p: "pass"}, &logged{}
		st := cachedStore(dir, cache, pass, false, log) // the passphrase would be prompted for
		if _, err := st.Load(ctx, key); err != nil {
			t.Fatal(err)
		}
		if pass.n != 0 || log.count(derived) != 0 {
			t.Fatalf("asked %d times, derived %d times; want neither", pass.n, log.count(derived))
		}
		if got := st.KeyCacheStatus(key); got.State != ports.KeyCacheUsed || !got.Until.Equal(until) {
			t.Errorf("status = %+v", got)
		}
		// The save after a refresh reuses the key and does not put it back
		// (its life counts from the derivation, not from each use).
		puts := cache.puts
		if err := st.Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if pass.n != 0 || log.count(derived) != 0 || cache.puts != puts {
			t.Fatalf("the save asked %d, derived %d, put %d more", pass.n, log.count(derived), cache.puts-puts)
		}
	})
	t.Run("a configured passphrase must be the one the key came from", func(t *testing.T) {
		cache := newCache()
		dir := seal(t, cache)
		log := &logged{}
		if _, err := cachedStore(dir, cache, &counted{p: "pass"}, true, log).Load(ctx, key); err != nil || log.count(derived) != 0 {
			t.Fatalf("same passphrase: %v, derived %d", err, log.count(derived))
		}
		// A changed passphrase drops the key; the file then refuses it.
		_, err := cachedStore(dir, cache, &counted{p: "other"}, true, nil).Load(ctx, key)
		if domain.KindOf(err) != domain.KindStorage {
			t.Fatalf("other passphrase: %v, want a storage error", err)
		}
		if cache.len() != 0 {
			t.Fatal("the key of the old passphrase is still cached")
		}
	})
	t.Run("a cached key that does not open the file is dropped and the key got once", func(t *testing.T) {
		cache := newCache()
		dir := seal(t, cache)
		for name, v := range cache.m {
			_, _ = rand.Read(v[:32])
			cache.m[name] = v
		}
		pass, log := &counted{p: "pass"}, &logged{}
		st := cachedStore(dir, cache, pass, false, log)
		if _, err := st.Load(ctx, key); err != nil {
			t.Fatal(err)
		}
		if pass.n != 1 || log.count(derived) != 1 || log.count("does not open the session file") != 1 {
			t.Fatalf("asked %d, derived %d; want once each\n%s", pass.n, log.count(derived), log.b.String())
		}
		if got := st.KeyCacheStatus(key); got.State != ports.KeyCacheSaved {
			t.Errorf("status = %+v, want saved", got)
		}
		log2 := &logged{}
		if _, err := cachedStore(dir, cache, &counted{p: "pass"}, false, log2).Load(ctx, key); err != nil || log2.count(derived) != 0 {
			t.Fatalf("the key put back does not serve the next process: %v, derived %d", err, log2.count(derived))
		}
	})
	t.Run("delete drops the key", func(t *testing.T) {
		cache := newCache()
		dir := seal(t, cache)
		if err := cachedStore(dir, cache, &counted{p: "pass"}, true, nil).Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if cache.len() != 0 {
			t.Fatal("the key outlived the session")
		}
	})
	t.Run("a cache the kernel refuses changes nothing but the status", func(t *testing.T) {
		cache := newCache()
		cache.err = errors.New("the kernel refuses keyrings here")
		dir := t.TempDir()
		pass := &counted{p: "pass"}
		if err := cachedStore(dir, cache, pass, true, nil).Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		st := cachedStore(dir, cache, pass, true, nil)
		if _, err := st.Load(ctx, key); err != nil {
			t.Fatal(err)
		}
		if got := st.KeyCacheStatus(key); got.State != ports.KeyCacheUnavailable || got.Detail != cache.err.Error() {
			t.Errorf("status = %+v", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		if got := newStore(t.TempDir(), "pass").KeyCacheStatus(key); got.State != ports.KeyCacheOff {
			t.Errorf("status = %+v", got)
		}
		// Turned off after a run kept a key: not used, but sign-out drops it.
		cache := newCache()
		dir := seal(t, cache)
		cache.ttl = 0
		pass := &counted{p: "pass"}
		st := cachedStore(dir, cache, pass, false, nil)
		if _, err := st.Load(ctx, key); err != nil || pass.n != 1 {
			t.Fatalf("with the cache off the key is derived: %v, asked %d", err, pass.n)
		}
		if got := st.KeyCacheStatus(key); got.State != ports.KeyCacheOff {
			t.Errorf("status = %+v", got)
		}
		if cache.len() != 1 {
			t.Fatal("the cache was written while off")
		}
		if err := st.Delete(ctx, key); err != nil || cache.len() != 0 {
			t.Fatalf("logout with the cache off left the key: %v", err)
		}
	})
	t.Run("the keychain's data key", func(t *testing.T) {
		cache := newCache()
		dir := t.TempDir()
		keys := &mapKeys{m: map[string]string{}}
		if err := filestore.New(filestore.Config{Dir: dir, DataKeys: keys, KeyCache: cache}).Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		keys.gets = 0
		st := filestore.New(filestore.Config{Dir: dir, DataKeys: keys, KeyCache: cache})
		st.Prefetch(ctx, key)
		if _, err := st.Load(ctx, key); err != nil {
			t.Fatal(err)
		}
		if keys.gets != 0 {
			t.Fatalf("%d keychain reads with the key cached, want 0", keys.gets)
		}
		// Another directory's session of the same key never shares it.
		other := t.TempDir()
		if err := filestore.New(filestore.Config{Dir: other, DataKeys: keys, KeyCache: cache}).Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if cache.len() != 2 {
			t.Fatalf("%d cached keys for two directories, want 2", cache.len())
		}
		if err := st.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if cache.len() != 1 {
			t.Fatal("logout left the key cached")
		}
	})
}
