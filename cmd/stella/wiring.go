package main

import (
	"context"
	"fmt"
	"log/slog"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/auth"
	"github.com/stellaops/stella/adapters/browser"
	"github.com/stellaops/stella/adapters/clock"
	"github.com/stellaops/stella/adapters/dpop"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/lock"
	"github.com/stellaops/stella/adapters/loopback"
	"github.com/stellaops/stella/adapters/memstore"
	"github.com/stellaops/stella/adapters/random"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/adapters/transport"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// modules is the composition root: the one place adapters are chosen.
func modules(s domain.Settings) ([]fx.Option, error) {
	store, err := storeModule(s)
	if err != nil {
		return nil, err
	}
	return []fx.Option{
		app.Module,
		clock.Module,
		dpop.Module,
		transport.Module,
		auth.Module,
		store,
		browser.Module,
		loopback.Module,
		random.Module,
		fx.Provide(fx.Annotate(term.NewPrompter, fx.As(new(ports.Prompter)))),
		fx.Provide(fx.Annotate(term.NewConsole, fx.As(new(ports.Console)))),
	}, nil
}

// storeModule picks where sessions live (SPEC §5). Until the keychain
// adapter lands, auto means the encrypted file store when a cache
// passphrase is configured, and memory otherwise; status says which and why.
func storeModule(s domain.Settings) (fx.Option, error) {
	kind := s.TokenStorage
	reason := fmt.Sprintf("TokenStorage: %s", kind)
	if kind == domain.StorageAuto {
		if s.CachePassphrase.IsZero() {
			kind, reason = domain.StorageMemory, "auto: no keychain support in this build and no cache passphrase set, so nothing is kept after this command"
		} else {
			kind, reason = domain.StorageFile, "auto: no keychain support in this build; STELLA_CACHE_PASSPHRASE is set"
		}
	}
	switch kind {
	case domain.StorageMemory:
		return fx.Provide(
			func() ports.SessionStore { return memstore.NewWithReason(reason) },
			func() ports.SessionLocker { return lock.NewInProcess() },
		), nil
	case domain.StorageFile:
		return fx.Provide(
			func(p ports.Prompter, log *slog.Logger) ports.SessionStore {
				return filestore.New(filestore.Config{
					Dir:        s.TokenCacheDir,
					Passphrase: passphrase(s, p),
					KDF:        filestore.DefaultKDF,
					Reason:     reason,
				})
			},
			func() ports.SessionLocker { return lock.New(s.TokenCacheDir) },
		), nil
	}
	return nil, domain.E(domain.KindStorage, "keychain storage is not available in this build",
		"Use --token-storage file with STELLA_CACHE_PASSPHRASE set, or --token-storage memory.")
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
		return p.Secret(ctx, "Passphrase for the stella token cache: ")
	}
}
