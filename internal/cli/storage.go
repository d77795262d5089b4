package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/keycache"
	"github.com/stellaops/stella/adapters/keychain"
	"github.com/stellaops/stella/adapters/lock"
	"github.com/stellaops/stella/adapters/memstore"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// storeModule picks where sessions live (SPEC §5): app.StorageChoice
// makes the store a TokenStorage names, and decides `auto` on first use
// (so `stella version` never probes anything) behind an
// app.DeferredStore; this only supplies the constructors and the lock
// that goes with each store. `auth doctor` probes the keychain with the
// choice too.
//
// early, when not nil, is the store earlyStore opened.
func storeModule(s domain.Settings, early *filestore.Store) (fx.Option, error) {
	return fx.Options(storeOf(s, early), fx.Provide(newStorageChoice)), nil
}

func storeOf(s domain.Settings, early *filestore.Store) fx.Option {
	reason := app.ChosenReason(s)
	switch s.TokenStorage {
	case domain.StorageRedis:
		return fleetModule(s, reason)
	case domain.StorageMemory:
		return fx.Provide(
			func(choice *app.StorageChoice, log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", s.TokenStorage, "reason", reason)
				st, _ := choice.Named()
				return st
			},
			func() ports.SessionLocker { return lock.NewInProcess() },
		)
	case domain.StorageFile, domain.StorageKeychain:
		return fx.Provide(
			func(choice *app.StorageChoice, log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", s.TokenStorage, "reason", reason, "dir", s.TokenCacheDir)
				if early != nil {
					return early
				}
				st, _ := choice.Named()
				return st
			},
			func() ports.SessionLocker { return lock.New(s.TokenCacheDir) },
		)
	}
	if early != nil {
		// auto, decided ahead from a kept verdict (earlyStore): a store
		// that keeps sessions on disk, so the file lock.
		return fx.Provide(
			func(log *slog.Logger) ports.SessionStore {
				log.Debug("storage decision", "storage", early.Info().Kind, "reason", early.Info().Reason)
				return early
			},
			func() ports.SessionLocker { return lock.New(s.TokenCacheDir) },
		)
	}
	return fx.Provide(
		app.NewDeferredStore,
		func(d *app.DeferredStore) ports.SessionStore { return d },
		func(d *app.DeferredStore) ports.SessionLocker {
			return d.Locker(lock.New(s.TokenCacheDir), lock.NewInProcess())
		},
	)
}

// newStorageChoice is the storage choice over this machine's
// keychain, the stores below and config.yaml.
func newStorageChoice(s domain.Settings, p ports.Prompter, c ports.Console, clk ports.Clock, k storeKeys) *app.StorageChoice {
	return app.NewStorageChoice(s, keychainProbe(s), storeMaker{s: s, prompter: p, keys: k}, configConsent{dir: s.ConfigDir}, p, c, clk)
}

// keychainProbe probes stella's keychain service, keeping verdicts in the
// token cache directory.
func keychainProbe(s domain.Settings) *keychain.Verdicts {
	return keychain.NewVerdicts(keychain.New(keychain.Service, keychain.DefaultTimeout), s.TokenCacheDir)
}

// storeMaker is the stores app.StorageChoice picks among.
type storeMaker struct {
	s        domain.Settings
	prompter ports.Prompter
	keys     storeKeys
}

func (m storeMaker) KeychainStore(reason string) ports.SessionStore {
	return keychainStore(m.s, reason, m.keys)
}

func (m storeMaker) FileStore(reason string) ports.SessionStore {
	return fileStore(m.s, m.prompter, reason, m.keys)
}

func (m storeMaker) MemoryStore(reason string) ports.SessionStore {
	return memstore.NewWithReason(reason)
}

// configConsent records a person's storage consent in config.yaml.
type configConsent struct{ dir string }

func (c configConsent) RecordStorage(kind domain.StorageKind) (string, error) {
	return config.Remember(c.dir, "TokenStorage", string(kind))
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
		st = keychainStore(s, app.ChosenReason(s), k)
	case domain.StorageFile:
		if s.CachePassphrase.IsZero() {
			return nil // asked for at a prompt, when needed
		}
		st = fileStore(s, nil, app.ChosenReason(s), k)
	case domain.StorageAuto:
		v, ok := keychainProbe(s).Remembered(now)
		if !ok {
			return nil
		}
		kind, reason, ok := app.SettledStorage(s, v)
		switch {
		case !ok:
			return nil
		case kind == domain.StorageKeychain:
			st = keychainStore(s, reason, k)
		default:
			st = fileStore(s, nil, reason, k)
		}
	default:
		return nil
	}
	st.Prefetch(ctx, s.SessionKey())
	return st
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
	pp := app.NewPassphrases(s, p)
	cfg := filestore.Config{Dir: s.TokenCacheDir, Passphrase: pp.Current, KDF: filestore.DefaultKDF,
		PassphraseAtHand: !s.CachePassphrase.IsZero(), Reason: reason, KeyCache: k.keyCache(), Log: k.log}
	if s.CachePassphrase.IsZero() {
		// Typed by a person: a new one twice, a wrong one again.
		cfg.PassphraseFrom = "the prompt (typed)"
		if p != nil && p.Interactive() {
			cfg.NewPassphrase, cfg.Retry = pp.New, pp.Again
		}
	} else {
		cfg.PassphraseFrom = app.SettingSource(s, "CachePassphrase")
		if f := passphraseFile(s); f != "" {
			cfg.PassphraseFrom += " (" + f + ")"
		}
	}
	return filestore.New(cfg)
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
	return sealedByKeychain(s.TokenCacheDir, keychain.New(keychain.Service, keychain.DefaultTimeout), reason, k)
}

// sealedByKeychain is the keychain store of dir on keys (stella's service,
// or a test's).
func sealedByKeychain(dir string, keys *keychain.Keys, reason string, k storeKeys) *filestore.Store {
	return filestore.New(filestore.Config{Dir: dir, DataKeys: keys, Reason: reason, KeyCache: k.keyCache(), Log: k.log})
}

// inspector is `auth doctor`'s view of the storage the composition root
// chose: a fresh keychain probe (app.StorageChoice, which also refreshes
// the kept verdict), the cache directory's permissions, and every stored
// session.
type inspector struct {
	s      domain.Settings
	store  ports.SessionStore
	choice *app.StorageChoice
	keys   storeKeys
}

var (
	_ ports.StorageInspector  = (*inspector)(nil)
	_ ports.KeyCacheInspector = (*inspector)(nil)
)

func newInspector(s domain.Settings, store ports.SessionStore, choice *app.StorageChoice, k storeKeys) ports.StorageInspector {
	return &inspector{s: s, store: store, choice: choice, keys: k}
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

func (i *inspector) Keychain(ctx context.Context) (bool, error) { return i.choice.Keychain(ctx) }

func (i *inspector) CacheDir() (string, error) {
	return i.s.TokenCacheDir, filestore.CheckDir(i.s.TokenCacheDir)
}

// Sessions opens every stored session; memory keeps none.
func (i *inspector) Sessions(ctx context.Context) ([]ports.SessionFile, error) {
	if in, ok := i.store.(ports.SessionInspector); ok {
		return in.Inspect(ctx)
	}
	return nil, nil
}
