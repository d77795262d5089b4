// Package fleetcache is TokenStorage: redis — a client-credentials session
// shared by a fleet of CI runners through Redis or Valkey (go-redis's
// UniversalClient: standalone, Sentinel or Cluster), so the fleet asks the
// Authority for one token per client, scope set and audience per lifetime
// instead of one per job (SPEC §5).
//
// Entries are sealed with AES-256-GCM under a key derived from the client's
// own credential (seal.go), refresh is single-flight across hosts through a
// lock in Redis (lock.go), and the cache is never a single point of
// failure: whatever goes wrong with it, this process says so once and
// carries on as if it were not configured, keeping its session in memory.
package fleetcache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// OpTimeout bounds every round trip to the cache: a slow or paused Redis
// costs a job about this much once, then it goes without the cache. It is
// a tenth of the request timeout, between half a second and five seconds
// (3 s by default): short next to a token request, long enough for a
// runner whose CPU is shared with many others.
func OpTimeout(requestTimeout time.Duration) time.Duration {
	return min(max(requestTimeout/10, 500*time.Millisecond), 5*time.Second)
}

// Config says which cache to use, for which client.
type Config struct {
	URL      string        // TokenCacheUrl without its password
	Password domain.Secret // from the URL or STELLA_TOKEN_CACHE_PASSWORD_FILE
	// CABundleFile adds trusted CAs for rediss:// (CaBundleFile), read
	// through Files: never blocking on a FIFO, never past a bound.
	CABundleFile string
	Files        ports.RegularFiles
	// Key is this configuration's session key; entries are found by
	// Binding, whatever the profile is called on each runner.
	Key     domain.SessionKey
	Binding Binding
	// Credential returns what the entry key is derived from: the client
	// secret, or the mTLS private key. It is called on first use.
	Credential func() (domain.Secret, error)
	// OpTimeout bounds each round trip (OpTimeout(LockTTL) when zero).
	OpTimeout time.Duration
	// LockTTL is how long a lock lives: the token request's timeout, after
	// which a holder that died frees it.
	LockTTL time.Duration
	// Warn prints one line on stderr; it is called at most once, when this
	// process stops using the cache.
	Warn   func(line string)
	Log    *slog.Logger
	Now    func() time.Time
	Reason string // why this backend was chosen, for status
}

// Store is a ports.SessionStore and ports.SessionLocker on a shared cache.
type Store struct {
	cfg Config
	url domain.CacheURL

	initOnce sync.Once
	initErr  error
	client   redis.UniversalClient
	keys     keys

	mu       sync.Mutex
	bypassed string                               // why this process stopped using the cache
	entryBad string                               // this client's entry did not open
	local    map[domain.SessionKey]domain.Session // where sessions go when the cache is bypassed
}

var (
	_ ports.SessionStore  = (*Store)(nil)
	_ ports.SessionLocker = (*Store)(nil)
	_ ports.SharedCache   = (*Store)(nil)
)

// New returns a store; it does no I/O (the connection, the CA bundle and the
// key derivation wait for first use).
func New(cfg Config) *Store {
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = 30 * time.Second
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = OpTimeout(cfg.LockTTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	return &Store{cfg: cfg, local: map[domain.SessionKey]domain.Session{}}
}

// quiet keeps go-redis's own logger off stderr: what matters is said once,
// by this package, in stella's words.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var setLogger sync.Once

// errPersonal is a person's session offered to a shared store.
func errPersonal() error {
	return domain.E(domain.KindUsage, "TokenStorage: redis shares client-credential sessions only; a person's session is never shared",
		"Sign in as the client (set STELLA_CLIENT_SECRET_FILE), or choose another TokenStorage (keychain, file) for a person's sign-in.")
}

// init connects lazily and derives the names and key. A failure here means
// the cache cannot be used by this process at all.
func (s *Store) init() error {
	s.initOnce.Do(func() {
		setLogger.Do(func() { redis.SetLogger(quiet{}) })
		cred, err := s.cfg.Credential()
		if err != nil {
			s.initErr = err
			return
		}
		if cred.IsZero() {
			s.initErr = errPersonal()
			return
		}
		if s.keys, err = deriveKeys(cred, s.cfg.Binding); err != nil {
			s.initErr = err
			return
		}
		u, _, err := domain.ParseCacheURL(s.cfg.URL)
		if err != nil {
			s.initErr = err
			return
		}
		s.url = u
		opts := &redis.UniversalOptions{
			Addrs: u.Addrs, Username: u.Username, Password: s.cfg.Password.Reveal(), DB: u.DB,
			MasterName: u.MasterName, IsClusterMode: u.Cluster,
			// One attempt per command, each bounded: the cache is an
			// optimisation, and a retry loop against a dead node would make
			// it the slowest part of every job.
			// That holds for dials too: go-redis dials five times, 100 ms
			// apart, by default, which added 0.4 s to every job while a
			// node refused connections or TLS.
			MaxRetries: -1, DialerRetries: 1, DialTimeout: s.cfg.OpTimeout, ReadTimeout: s.cfg.OpTimeout, WriteTimeout: s.cfg.OpTimeout,
			ContextTimeoutEnabled: true, PoolSize: 4, MaxRedirects: 3,
			// RESP2 without CLIENT SETINFO or maintenance notifications: no
			// extra round trips on the connection a job opens once.
			Protocol: 2, DisableIdentity: true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		}
		if u.TLS {
			tc, err := s.tlsConfig()
			if err != nil {
				s.initErr = err
				return
			}
			opts.TLSConfig = tc
		}
		s.client = redis.NewUniversalClient(opts)
	})
	return s.initErr
}

// maxCABundle bounds the CA bundle, as the transport's does.
const maxCABundle = 4 << 20

func (s *Store) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.cfg.CABundleFile == "" {
		return tc, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	bad := func(err error, why string) error {
		return domain.Wrap(domain.KindUsage, err, "CaBundleFile "+s.cfg.CABundleFile+" "+why+" (for the shared cache)",
			"Point CaBundleFile (STELLA_CA_BUNDLE) at a readable PEM file of CA certificates.")
	}
	if s.cfg.Files == nil {
		return nil, domain.E(domain.KindUnexpected, "the shared cache was built without a file reader", "")
	}
	pem, why, err := ports.ReadSettingFile(s.cfg.Files, s.cfg.CABundleFile, maxCABundle)
	if why == "" && !pool.AppendCertsFromPEM(pem) {
		why = "holds no PEM certificate"
	}
	if why != "" {
		return nil, bad(err, why)
	}
	tc.RootCAs = pool
	return tc, nil
}

// use returns the client, or false when this process goes without the
// cache. A person's session (no client credential) is an error, not a
// bypass: sharing it is refused outright.
func (s *Store) use() (bool, error) {
	if err := s.init(); err != nil {
		if domain.KindOf(err) == domain.KindUsage {
			return false, err
		}
		s.bypass(err)
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bypassed == "", nil
}

// bypass stops using the cache for the rest of this process and says so
// once: on stderr always, with the cause at -v.
func (s *Store) bypass(cause error) {
	s.mu.Lock()
	first := s.bypassed == ""
	if first {
		s.bypassed = domain.Printable(describe(cause), 300)
	}
	why := s.bypassed
	s.mu.Unlock()
	if first {
		s.cfg.Log.Debug("shared token cache bypassed", "cache", domain.RedactCacheURL(s.cfg.URL), "cause", why)
		s.cfg.Warn(fmt.Sprintf("the shared token cache %s is not usable (%s); asking the Authority directly", domain.RedactCacheURL(s.cfg.URL), why))
	}
}

// describe turns a go-redis failure into words.
func describe(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.Is(err, errLockTimeout):
		return err.Error()
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.OpTimeout)
}

// Load returns this client's shared session. A missing entry, and one that
// does not open, are ErrNotFound: the caller then asks the Authority and
// saves over it.
func (s *Store) Load(ctx context.Context, key domain.SessionKey) (domain.Session, error) {
	notFound := fmt.Errorf("shared session: %w", domain.ErrNotFound)
	if key != s.cfg.Key {
		return domain.Session{}, notFound
	}
	ok, err := s.use()
	if err != nil {
		return domain.Session{}, err
	}
	if !ok {
		return s.loadLocal(key, notFound)
	}
	sess, found, err := s.fetch(ctx)
	switch {
	case ctx.Err() != nil:
		return domain.Session{}, ctx.Err()
	case err != nil && isEntryError(err):
		s.badEntry(err)
		return domain.Session{}, notFound
	case err != nil:
		s.bypass(err)
		return s.loadLocal(key, notFound)
	case !found:
		return domain.Session{}, notFound
	}
	sess.Key = key
	return sess, nil
}

// entryError is an entry that is there but cannot be used; any other
// error of a read is the cache's.
type entryError struct{ err error }

func (e entryError) Error() string { return e.err.Error() }
func (e entryError) Unwrap() error { return e.err }

func isEntryError(err error) bool { var e entryError; return errors.As(err, &e) }

// fetch reads and opens the entry. An entry that is there but unusable is
// an entryError; any other error is the cache's.
func (s *Store) fetch(ctx context.Context) (domain.Session, bool, error) {
	octx, cancel := s.op(ctx)
	defer cancel()
	blob, err := s.client.Get(octx, s.keys.entry).Bytes()
	if errors.Is(err, redis.Nil) {
		return domain.Session{}, false, nil
	}
	if err != nil {
		return domain.Session{}, false, err
	}
	plain, err := s.keys.open(blob)
	if err != nil {
		return domain.Session{}, true, entryError{err}
	}
	sess, err := domain.DecodeSession(plain)
	if err == nil && sess.Grant != domain.GrantClientCredentials {
		err = errors.New("holds a session that is not a client-credentials one")
	}
	if err != nil {
		return domain.Session{}, true, entryError{err}
	}
	return sess, true, nil
}

// badEntry says once that the entry did not open; the session this process
// gets from the Authority replaces it.
func (s *Store) badEntry(err error) {
	s.mu.Lock()
	first := s.entryBad == ""
	if first {
		s.entryBad = domain.Printable(err.Error(), 300)
	}
	s.mu.Unlock()
	if first {
		s.cfg.Log.Debug("shared token cache entry unusable", "cause", err.Error())
		s.cfg.Warn("this client's entry in the shared token cache did not open (" + domain.Printable(err.Error(), 200) + "); asking the Authority directly and replacing it")
	}
}

func (s *Store) loadLocal(key domain.SessionKey, notFound error) (domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.local[key]; ok {
		return v, nil
	}
	return domain.Session{}, notFound
}

// Save shares a client-credentials session until it becomes due: the entry
// expires in Redis when the token would be renewed, so an entry that is
// there is always one worth using. A cache that refuses the write (down,
// full, failing over) is bypassed, never an error: the token is good.
func (s *Store) Save(ctx context.Context, sess domain.Session) error {
	if err := sess.Validate(); err != nil {
		return err
	}
	if sess.Grant != domain.GrantClientCredentials {
		return errPersonal()
	}
	s.mu.Lock()
	s.local[sess.Key] = sess
	s.mu.Unlock()
	ok, err := s.use()
	if err != nil || !ok {
		return err
	}
	now := s.cfg.Now()
	if sess.Access.Expiry.IsZero() {
		s.cfg.Log.Debug("not sharing a token without a lifetime", "cache", domain.RedactCacheURL(s.cfg.URL))
		return nil
	}
	ttl := sess.Access.Expiry.Add(-sess.Access.RefreshLead()).Sub(now)
	if ttl < time.Second {
		s.cfg.Log.Debug("not sharing a token that is already due", "expires", sess.Access.Expiry)
		return nil
	}
	plain, err := domain.EncodeSession(sess)
	if err != nil {
		return err
	}
	blob, err := s.keys.seal(plain)
	if err != nil {
		return err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	if err := s.client.Set(octx, s.keys.entry, blob, ttl).Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.bypass(err)
		return nil
	}
	s.cfg.Log.Debug("shared the session", "cache", domain.RedactCacheURL(s.cfg.URL), "ttl", ttl.Round(time.Second).String())
	return nil
}

// Delete removes this client's entry for the whole fleet. Unlike a read,
// a delete that cannot reach the cache is an error: the caller asked for
// the fleet to forget the token, and it has not.
func (s *Store) Delete(ctx context.Context, key domain.SessionKey) error {
	s.mu.Lock()
	delete(s.local, key)
	s.mu.Unlock()
	if key != s.cfg.Key {
		return nil
	}
	if err := s.init(); err != nil {
		return err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	if err := s.client.Del(octx, s.keys.entry).Err(); err != nil {
		return domain.Wrap(domain.KindUnreachable, errors.New(domain.Printable(describe(err), 200)),
			"could not remove this client's entry from the shared token cache "+domain.RedactCacheURL(s.cfg.URL),
			"Run `stella auth logout` again when the cache answers; until then runners keep using the entry until it expires.")
	}
	return nil
}

// List names this configuration's session when the fleet has one: entry
// names reveal no client, so no other session can be found.
func (s *Store) List(ctx context.Context) ([]domain.SessionKey, error) {
	if _, err := s.Load(ctx, s.cfg.Key); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return []domain.SessionKey{s.cfg.Key}, nil
}

// Info describes the backend without I/O.
func (s *Store) Info() ports.StoreInfo {
	info := ports.StoreInfo{Kind: domain.StorageRedis, Label: "shared cache (redis)", Location: domain.RedactCacheURL(s.cfg.URL), Reason: s.cfg.Reason}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bypassed != "" {
		info.Label = "memory (shared cache bypassed)"
		info.Reason += "; bypassed: " + s.bypassed
	}
	return info
}

// Close releases the connections.
func (s *Store) Close() error {
	if s.client != nil {
		return s.client.Close()
	}
	return nil
}
