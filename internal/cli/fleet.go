package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/fleetcache"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// fleetModule is TokenStorage: redis: one store that is also the
// cross-host lock, so refresh is single-flight across the fleet.
func fleetModule(s domain.Settings, reason string) fx.Option {
	return fx.Provide(
		func(c ports.Console, log *slog.Logger) *fleetcache.Store { return fleetStore(s, c, log, reason) },
		func(f *fleetcache.Store) ports.SessionStore { return f },
		func(f *fleetcache.Store) ports.SessionLocker { return f },
	)
}

func fleetStore(s domain.Settings, c ports.Console, log *slog.Logger, reason string) *fleetcache.Store {
	return fleetcache.New(fleetcache.Config{
		URL: s.TokenCacheURL, Password: s.TokenCachePassword, CABundleFile: s.CABundleFile, Files: config.Files{},
		Key: s.SessionKey(),
		Binding: fleetcache.Binding{Issuer: s.AuthorityURL, ClientID: s.ClientID, Scopes: s.Scopes,
			Audience: s.Audience, Mode: s.AuthMode},
		Credential: func() (domain.Secret, error) { return fleetCredential(s) },
		LockTTL:    s.RequestTimeout,
		OpTimeout:  fleetcache.OpTimeout(s.RequestTimeout),
		Warn:       func(line string) { c.Say("warning: " + line) },
		Log:        log,
		Reason:     reason,
	})
}

// fleetCredential is what the shared entry's key is derived from: the
// client's own secret, or for mTLS the private key, which every runner of
// the client holds and the Redis operator does not. No client credential
// means a person's sign-in, which is never shared.
// maxFleetKey bounds the private key read for the shared cache key.
const maxFleetKey = 1 << 20

func fleetCredential(s domain.Settings) (domain.Secret, error) {
	if s.AuthMode == domain.AuthModeMTLS && s.ClientKeyFile != "" {
		// Read as every file a setting names is read: a FIFO in its place
		// must not hang the command, nor a device exhaust it (SPEC §6).
		b, why, err := ports.ReadSettingFile(config.Files{}, s.ClientKeyFile, maxFleetKey)
		if why != "" {
			return domain.Secret{}, domain.Wrap(domain.KindUsage, err, "ClientKeyFile "+s.ClientKeyFile+" "+why+" (for the shared cache key)",
				"Point ClientKeyFile (STELLA_CLIENT_KEY) at the PEM private key of the client certificate.")
		}
		return domain.NewSecret(s.ClientSecret.Reveal() + "\x00" + string(b)), nil
	}
	if !s.HasClientSecret() {
		return domain.Secret{}, personalShared(s)
	}
	return s.ClientSecret, nil
}

func personalShared(s domain.Settings) error {
	return domain.E(domain.KindUsage,
		fmt.Sprintf("TokenStorage: redis shares client-credential sessions only, and %s has no client secret configured; a person's session is never shared", s.ClientID),
		"For CI set STELLA_CLIENT_SECRET_FILE; to sign in as a person, choose another TokenStorage (--token-storage keychain or file).")
}

var _ ports.SharedCacheInspector = (*inspector)(nil)

// SharedCache describes the fleet cache for `auth doctor`.
func (i *inspector) SharedCache(ctx context.Context) (ports.SharedCacheState, bool) {
	sc, ok := i.store.(ports.SharedCache)
	if !ok || i.s.RequireAuthority() != nil {
		return ports.SharedCacheState{}, false
	}
	return sc.Describe(ctx, i.s.SessionKey()), true
}

// confirmFleetLogout asks, on a terminal, before a logout removes the
// shared token of TokenStorage: redis for every runner of the fleet; a
// script (non-interactive) is not asked. ok is false when the person
// declined.
func confirmFleetLogout(rt *Runtime) (ok bool, err error) {
	s, err := rt.Settings()
	if err != nil || s.TokenStorage != domain.StorageRedis || s.NonInteractive {
		return true, err
	}
	var p ports.Prompter
	if err := rt.Populate(&p); err != nil {
		return false, err
	}
	if !p.Interactive() {
		return true, nil
	}
	u, _, _ := domain.ParseCacheURL(s.TokenCacheURL)
	answer, err := p.Line(rt.ctx, fmt.Sprintf("This revokes %s's shared token and removes it from %s for every runner. Continue? [y/N] ",
		s.ClientID, domain.RedactCacheURL(u.String())))
	if err != nil {
		return false, err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a == "y" || a == "yes" {
		return true, nil
	}
	fmt.Fprintln(rt.Err(), "Nothing was revoked or removed.")
	return false, nil
}
