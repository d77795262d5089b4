package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/keycache"
	"github.com/stellaops/stella/adapters/keychain"
	"github.com/stellaops/stella/adapters/lock"
	"github.com/stellaops/stella/adapters/memstore"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// storeModule picks where sessions live (SPEC §5). An explicit choice is
// taken as is; `auto` is decided on first use (so `stella version` never
// probes anything) by auto below.
//
// early, when not nil, is the store earlyStore opened.
func storeModule(s domain.Settings, early *filestore.Store) (fx.Option, error) {
	reason := chosenReason(s)
	switch s.TokenStorage {
	case domain.StorageRedis:
		return fleetModule(s, reason), nil
	case domain.StorageMemory:
		return fx.Provide(
			func(log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", s.TokenStorage, "reason", reason)
				return memstore.NewWithReason(reason)
			},
			func() ports.SessionLocker { return lock.NewInProcess() },
		), nil
	case domain.StorageFile:
		return fx.Provide(
			func(p ports.Prompter, k storeKeys, log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", s.TokenStorage, "reason", reason, "dir", s.TokenCacheDir)
				if early != nil {
					return early
				}
				return fileStore(s, p, reason, k)
			},
			func() ports.SessionLocker { return lock.New(s.TokenCacheDir) },
		), nil
	case domain.StorageKeychain:
		return fx.Provide(
			func(k storeKeys, log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", s.TokenStorage, "reason", reason, "dir", s.TokenCacheDir)
				if early != nil {
					return early
				}
				return keychainStore(s, reason, k)
			},
			func() ports.SessionLocker { return lock.New(s.TokenCacheDir) },
		), nil
	}
	return fx.Provide(
		func(p ports.Prompter, c ports.Console, clk ports.Clock, k storeKeys, log *slog.Logger) *auto {
			a := &auto{s: s, prompter: p, console: c, clock: clk, keys: k, log: log}
			if early != nil {
				a.chosen = early
				log.Debug("storage decision", "storage", early.Info().Kind, "reason", early.Info().Reason)
			}
			return a
		},
		func(a *auto) ports.SessionStore { return a },
		// The lock follows the decision: a file lock beside a stored
		// session, an in-process one for memory, which must leave nothing
		// on disk.
		func(a *auto) ports.SessionLocker {
			return &autoLocker{a: a, file: lock.New(s.TokenCacheDir), mem: lock.NewInProcess()}
		},
	), nil
}

// autoLocker is the SessionLocker of TokenStorage: auto.
type autoLocker struct {
	a    *auto
	file ports.SessionLocker
	mem  ports.SessionLocker
}

func (l *autoLocker) Lock(ctx context.Context, key domain.SessionKey) (func(), error) {
	st, err := l.a.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(*memstore.Store); ok {
		return l.mem.Lock(ctx, key)
	}
	return l.file.Lock(ctx, key)
}

// earlyStore opens the session store before the rest of the command is
// assembled, when it is known without asking anyone, and starts getting
// the key that opens the session: the keychain store (chosen, or `auto`
// with a probe's verdict for it still held) reads the session's data key,
// D-Bus round trips through two other processes; the file store with a
// configured passphrase (chosen, or `auto` with a verdict against the
// keychain still held) derives its scrypt key, 75 ms of one core. Either
// then overlaps with building the fx graph (about a millisecond) instead
// of following it. nil otherwise: probing and prompting belong to first
// use, so `auto` never probes for a command that stores nothing.
func earlyStore(ctx context.Context, s domain.Settings, now time.Time, log *slog.Logger) *filestore.Store {
	var st *filestore.Store
	k := newStoreKeys(s, log)
	switch s.TokenStorage {
	case domain.StorageKeychain:
		st = keychainStore(s, chosenReason(s), k)
	case domain.StorageFile:
		if s.CachePassphrase.IsZero() {
			return nil // asked for at a prompt, when needed
		}
		st = fileStore(s, nil, chosenReason(s), k)
	case domain.StorageAuto:
		v, ok := keychain.Remembered(s.TokenCacheDir, now)
		switch {
		case !ok:
			return nil
		case v.OK:
			st = keychainStore(s, keychainAnswered(v), k)
		case !s.CachePassphrase.IsZero():
			st = fileStore(s, nil, passphraseInstead(v), k)
		default:
			return nil
		}
	default:
		return nil
	}
	st.Prefetch(ctx, s.SessionKey())
	return st
}

// passphraseInstead is why auto took the file store without asking.
func passphraseInstead(v keychain.Verdict) string {
	return "auto: the OS keychain is not usable: " + strings.TrimSuffix(v.Detail, ".") + "; a cache passphrase is configured, so the encrypted file"
}

// chosenReason says where an explicit TokenStorage came from.
func chosenReason(s domain.Settings) string {
	return "TokenStorage: " + string(s.TokenStorage) + " (" + settingSource(s, "Authority.TokenStorage") + ")"
}

// keychainAnswered is why auto took the keychain.
func keychainAnswered(v keychain.Verdict) string {
	when := "just now"
	if v.Cached {
		when = "at " + v.At.Local().Format("15:04")
	}
	return "auto: the OS keychain answered (checked " + when + ")"
}

// storeKeys is what a file store needs besides its settings: the kernel
// key cache (with KeyCacheTTL 0 it keeps and reads nothing, but sign-out
// and --forget-keys still drop what an earlier run kept) and the -v log,
// where the store says where each key came from.
type storeKeys struct {
	cache *keycache.Cache
	log   *slog.Logger
}

// newStoreKeys makes the key cache of KeyCacheTTL; it does no system call.
func newStoreKeys(s domain.Settings, log *slog.Logger) storeKeys {
	return storeKeys{cache: keycache.New(s.KeyCacheTTL, log), log: log}
}

// keyCache is the cache as the file store sees it: nil, not a nil
// pointer in an interface, when there is none.
func (k storeKeys) keyCache() filestore.KeyCache {
	if k.cache == nil {
		return nil
	}
	return k.cache
}

// fileStore is the passphrase-sealed store; p asks for the passphrase
// when none is configured (nil where one is).
func fileStore(s domain.Settings, p ports.Prompter, reason string, k storeKeys) *filestore.Store {
	cfg := filestore.Config{Dir: s.TokenCacheDir, Passphrase: passphrase(s, p), KDF: filestore.DefaultKDF,
		PassphraseAtHand: !s.CachePassphrase.IsZero(), Reason: reason, KeyCache: k.keyCache(), Log: k.log}
	if s.CachePassphrase.IsZero() {
		// Typed by a person: a new one twice, a wrong one again.
		cfg.PassphraseFrom = "the prompt (typed)"
		if p != nil && p.Interactive() {
			cfg.NewPassphrase = newPassphrase(p)
			cfg.Retry = func(ctx context.Context, attempt int) (domain.Secret, error) {
				return p.Secret(ctx, fmt.Sprintf("Wrong passphrase; try again (%d of %d): ", attempt, maxTries))
			}
		}
	} else {
		cfg.PassphraseFrom = settingSource(s, "CachePassphrase")
		if f := passphraseFile(s); f != "" {
			cfg.PassphraseFrom += " (" + f + ")"
		}
	}
	return filestore.New(cfg)
}

// maxTries is how often a person may type a passphrase (filestore allows
// the same number for a wrong one).
const maxTries = 3

// newPassphrase asks for a new passphrase twice: nothing can check a typo
// in one nobody has used yet, and a typo would lock the session away.
func newPassphrase(p ports.Prompter) func(ctx context.Context) (domain.Secret, error) {
	return func(ctx context.Context) (domain.Secret, error) {
		prompt := "New passphrase for the stella token cache: "
		for try := 1; ; try++ {
			a, err := p.Secret(ctx, prompt)
			if err != nil {
				return domain.Secret{}, err
			}
			if a.IsZero() {
				prompt = "The passphrase may not be empty. New passphrase: "
			} else {
				b, err := p.Secret(ctx, "Type it again: ")
				if err != nil {
					return domain.Secret{}, err
				}
				if a.Equal(b) {
					return a, nil
				}
				prompt = "The two did not match. New passphrase: "
			}
			if try == maxTries {
				return domain.Secret{}, domain.E(domain.KindStorage, "no passphrase was confirmed (typed twice alike) in three tries",
					"Run the command again and type the same passphrase twice; nothing was saved.")
			}
		}
	}
}

// passphraseFile is the file the configured passphrase was read from.
func passphraseFile(s domain.Settings) string {
	for _, e := range s.Effective {
		if e.Key == "CachePassphrase" && e.Source.Detail == "STELLA_CACHE_PASSPHRASE_FILE" {
			if v, ok := os.LookupEnv("STELLA_CACHE_PASSPHRASE_FILE"); ok {
				return v
			}
		}
	}
	return ""
}

// keychainStore seals each session in the token cache directory with a
// random data key kept in the OS keychain: a whole session does not fit
// every platform's keychain item (see adapters/keychain).
func keychainStore(s domain.Settings, reason string, k storeKeys) *filestore.Store {
	return filestore.New(filestore.Config{Dir: s.TokenCacheDir, DataKeys: keychain.New(keychain.Service, keychain.DefaultTimeout),
		Reason: reason, KeyCache: k.keyCache(), Log: k.log})
}

// passphrase takes the cache passphrase from the settings, or asks for it
// once on an interactive terminal.
func passphrase(s domain.Settings, p ports.Prompter) func(ctx context.Context) (domain.Secret, error) {
	return func(ctx context.Context) (domain.Secret, error) {
		if !s.CachePassphrase.IsZero() {
			return s.CachePassphrase, nil
		}
		if !p.Interactive() {
			return domain.Secret{}, domain.E(domain.KindStorage, "the encrypted token cache needs a passphrase",
				"Set STELLA_CACHE_PASSPHRASE or STELLA_CACHE_PASSPHRASE_FILE, or run interactively to be asked.")
		}
		prompt := "Passphrase for the stella token cache: "
		for try := 1; ; try++ {
			pp, err := p.Secret(ctx, prompt)
			if err != nil || !pp.IsZero() || try == maxTries {
				return pp, err // empty after three tries: the store says so
			}
			prompt = "The passphrase may not be empty. Passphrase: "
		}
	}
}

func settingSource(s domain.Settings, key string) string {
	for _, e := range s.Effective {
		if e.Key == key {
			return e.Source.String()
		}
	}
	return "default"
}

// auto is TokenStorage: auto. On first use it probes the keychain (bounded,
// verdict cached per desktop session) and uses it when it answers.
// Otherwise the encrypted file store needs the user's consent: a cache
// passphrase already configured, or a yes at a prompt, which is then
// written to config.yaml. Credentials that sign in again without a person
// (a client secret, the legacy password grant) need nothing kept, so they
// run in memory. Anything else is exit 18 explaining both ways out. Never
// plaintext.
type auto struct {
	s        domain.Settings
	prompter ports.Prompter
	console  ports.Console
	clock    ports.Clock
	keys     storeKeys
	log      *slog.Logger

	mu     sync.Mutex
	chosen ports.SessionStore
	err    error
}

var (
	_ ports.SessionStore = (*auto)(nil)
	_ ports.Quarantiner  = (*auto)(nil)
)

var _ ports.SpaceReserver = (*auto)(nil)

// Reserve reserves space in the chosen store, when it can.
func (a *auto) Reserve(ctx context.Context, key domain.SessionKey) (func(), error) {
	st, err := a.resolve(ctx)
	if err != nil {
		return func() {}, err
	}
	if r, ok := st.(ports.SpaceReserver); ok {
		return r.Reserve(ctx, key)
	}
	return func() {}, nil
}

// Resolve decides (once) and returns the store auto stands for.
func (a *auto) Resolve(ctx context.Context) (ports.SessionStore, error) { return a.resolve(ctx) }

func (a *auto) resolve(ctx context.Context) (ports.SessionStore, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.chosen == nil && a.err == nil {
		a.chosen, a.err = a.choose(ctx)
		if a.err == nil {
			i := a.chosen.Info()
			a.log.Debug("storage decision", "storage", i.Kind, "reason", i.Reason)
		} else {
			a.log.Debug("storage decision failed", "storage", domain.StorageAuto, "error", a.err)
		}
	}
	return a.chosen, a.err
}

func (a *auto) choose(ctx context.Context) (ports.SessionStore, error) {
	kc := keychain.New(keychain.Service, keychain.DefaultTimeout)
	var v keychain.Verdict
	if a.unattended() {
		// Credentials that sign in again by themselves end in memory
		// when the keychain fails, and memory leaves nothing on disk:
		// the verdict is kept only when the keychain is what they use.
		var ok bool
		if v, ok = keychain.Remembered(a.s.TokenCacheDir, a.clock.Now()); !ok {
			v = kc.FreshProbe(ctx, a.clock.Now())
			if v.OK && ctx.Err() == nil {
				keychain.Remember(a.s.TokenCacheDir, v)
			}
		}
	} else {
		v = kc.CachedProbe(ctx, a.s.TokenCacheDir, a.clock.Now(), false)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if v.OK {
		return keychainStore(a.s, keychainAnswered(v), a.keys), nil
	}
	why := strings.TrimSuffix(v.Detail, ".")
	switch {
	case !a.s.CachePassphrase.IsZero():
		return fileStore(a.s, a.prompter, passphraseInstead(v), a.keys), nil
	case a.unattended():
		return memstore.NewWithReason("auto: the OS keychain is not usable: " + why + "; these credentials sign in again without a person, so nothing is kept"), nil
	case a.prompter.Interactive():
		return a.askConsent(ctx, why)
	}
	return nil, domain.E(domain.KindStorage,
		"the OS keychain is not usable: "+why+"; the encrypted file store needs your consent",
		"Either start and unlock a keyring (Secret Service), or set STELLA_TOKEN_STORAGE=file (TokenStorage: file) with STELLA_CACHE_PASSPHRASE; `stella auth doctor` checks both.")
}

// unattended reports whether the credentials sign in again without a
// person (a client secret, the legacy password grant) and no passphrase
// asks for the file store: then a keychain that fails means memory.
func (a *auto) unattended() bool {
	return a.s.CachePassphrase.IsZero() && (a.s.HasClientSecret() || !a.s.Password.IsZero())
}

func (a *auto) askConsent(ctx context.Context, why string) (ports.SessionStore, error) {
	a.console.Say("The OS keychain is not usable here: " + why + ".")
	answer, err := a.prompter.Line(ctx, fmt.Sprintf("Keep sessions in passphrase-encrypted files in %s instead? [y/N] ", a.s.TokenCacheDir))
	if err != nil {
		return nil, err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return nil, domain.E(domain.KindStorage, "no credential store: the keychain is not usable and the file store was declined",
			"Start and unlock a keyring, or answer yes (or set TokenStorage: file) to use the encrypted file store.")
	}
	path, err := config.Remember(a.s.ConfigDir, "TokenStorage", string(domain.StorageFile))
	if err != nil {
		return nil, err
	}
	a.console.Say("Remembered in " + path + " (TokenStorage: file).")
	return fileStore(a.s, a.prompter, "auto: the OS keychain is not usable; you chose the encrypted file (remembered in "+path+")", a.keys), nil
}

func (a *auto) Load(ctx context.Context, key domain.SessionKey) (domain.Session, error) {
	st, err := a.resolve(ctx)
	if err != nil {
		return domain.Session{}, err
	}
	return st.Load(ctx, key)
}

func (a *auto) Save(ctx context.Context, sess domain.Session) error {
	st, err := a.resolve(ctx)
	if err != nil {
		return err
	}
	return st.Save(ctx, sess)
}

func (a *auto) Delete(ctx context.Context, key domain.SessionKey) error {
	st, err := a.resolve(ctx)
	if err != nil {
		return err
	}
	return st.Delete(ctx, key)
}

func (a *auto) List(ctx context.Context) ([]domain.SessionKey, error) {
	st, err := a.resolve(ctx)
	if err != nil {
		return nil, err
	}
	return st.List(ctx)
}

func (a *auto) Quarantine(ctx context.Context, key domain.SessionKey) (string, error) {
	st, err := a.resolve(ctx)
	if err != nil {
		return "", err
	}
	if q, ok := st.(ports.Quarantiner); ok {
		return q.Quarantine(ctx, key)
	}
	return "", nil
}

var _ ports.KeyCacheReporter = (*auto)(nil)

// KeyCacheStatus is the chosen store's; nothing before the choice.
func (a *auto) KeyCacheStatus(key domain.SessionKey) ports.KeyCacheStatus {
	a.mu.Lock()
	chosen := a.chosen
	a.mu.Unlock()
	if r, ok := chosen.(ports.KeyCacheReporter); ok {
		return r.KeyCacheStatus(key)
	}
	return ports.KeyCacheStatus{}
}

// Info describes the chosen backend; before the first use it says the
// choice is still open rather than probing.
func (a *auto) Info() ports.StoreInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.chosen != nil {
		return a.chosen.Info()
	}
	reason := "auto: not decided yet"
	if a.err != nil {
		reason = "auto: " + a.err.Error()
	}
	return ports.StoreInfo{Kind: domain.StorageAuto, Label: "none", Reason: reason}
}

// inspector is `auth doctor`'s view of the storage the composition root
// chose: a fresh keychain probe (which also refreshes the cached verdict),
// the cache directory's permissions, and every stored session.
type inspector struct {
	s     domain.Settings
	store ports.SessionStore
	clock ports.Clock
	keys  storeKeys
}

var (
	_ ports.StorageInspector  = (*inspector)(nil)
	_ ports.KeyCacheInspector = (*inspector)(nil)
)

func newInspector(s domain.Settings, store ports.SessionStore, clock ports.Clock, k storeKeys) ports.StorageInspector {
	return &inspector{s: s, store: store, clock: clock, keys: k}
}

// KeyCache reports on the kernel key cache and, with forget, drops every
// key stella keeps there for this user in this session.
func (i *inspector) KeyCache(_ context.Context, forget bool) (ports.KeyCacheReport, error) {
	if i.keys.cache == nil {
		return ports.KeyCacheReport{Off: true}, nil
	}
	rep, err := i.keys.cache.Report(forget)
	rep.Off = i.keys.cache.TTL() == 0
	return rep, err
}

func (i *inspector) Keychain(ctx context.Context) (bool, error) {
	kc := keychain.New(keychain.Service, keychain.DefaultTimeout)
	var v keychain.Verdict
	if i.leavesNothing() {
		// Memory storage leaves nothing on disk, the doctor's probe included.
		v = kc.FreshProbe(ctx, i.clock.Now())
		if v.OK && i.s.TokenStorage == domain.StorageAuto && ctx.Err() == nil {
			keychain.Remember(i.s.TokenCacheDir, v) // auto will use the keychain: as its own probe does
		}
	} else {
		v = kc.CachedProbe(ctx, i.s.TokenCacheDir, i.clock.Now(), true)
	}
	used := i.s.TokenStorage == domain.StorageKeychain || (i.s.TokenStorage == domain.StorageAuto && v.OK)
	if !v.OK {
		return used, domain.E(domain.KindStorage, v.Detail,
			"Start and unlock a keyring (Secret Service), or choose --token-storage file.")
	}
	return used, nil
}

// leavesNothing reports whether the storage in force keeps nothing on disk:
// memory, or auto with credentials that end in memory without a keychain.
func (i *inspector) leavesNothing() bool {
	a := auto{s: i.s}
	return i.s.TokenStorage == domain.StorageMemory || (i.s.TokenStorage == domain.StorageAuto && a.unattended())
}

func (i *inspector) CacheDir() (string, error) {
	return i.s.TokenCacheDir, filestore.CheckDir(i.s.TokenCacheDir)
}

func (i *inspector) Sessions(ctx context.Context) ([]ports.SessionFile, error) {
	st := i.store
	if a, ok := st.(*auto); ok {
		var err error
		if st, err = a.Resolve(ctx); err != nil {
			return nil, err
		}
	}
	if fs, ok := st.(*filestore.Store); ok {
		return fs.Inspect(ctx)
	}
	return nil, nil // memory: nothing is stored
}
