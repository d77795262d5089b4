package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// StorageChoice decides where sessions live (SPEC §5). A TokenStorage the
// settings name is taken as is. Under auto it probes the OS keychain
// (bounded, the verdict kept per desktop session) and uses it when it
// answers. Otherwise the encrypted
// file store needs the user's consent: a cache passphrase already
// configured, or a yes at a prompt, which is then recorded (config.yaml)
// so the question is asked once. Credentials that sign in again without a
// person (a client secret, the legacy password grant) need nothing kept,
// so they run in memory. Anything else is a KindStorage error explaining
// both ways out. Never plaintext.
type StorageChoice struct {
	settings domain.Settings
	keychain ports.KeychainProbe
	stores   ports.StoreMaker
	consent  ports.ConsentRecorder
	prompter ports.Prompter
	console  ports.Console
	clock    ports.Clock
}

// NewStorageChoice returns the choice for settings s; it does no I/O.
func NewStorageChoice(s domain.Settings, kc ports.KeychainProbe, stores ports.StoreMaker, consent ports.ConsentRecorder,
	p ports.Prompter, c ports.Console, clk ports.Clock) *StorageChoice {
	return &StorageChoice{settings: s, keychain: kc, stores: stores, consent: consent, prompter: p, console: c, clock: clk}
}

// Do decides, and returns the store decided on. A TokenStorage the
// settings name — typed, or recorded by an earlier consent — is taken as
// is (Named), without a probe or a question.
func (u *StorageChoice) Do(ctx context.Context) (ports.SessionStore, error) {
	if st, ok := u.Named(); ok {
		return st, nil
	}
	if u.settings.TokenStorage == domain.StorageRedis {
		// Built with its lock by the composition root; a probe here would
		// choose another store behind the fleet's back.
		return nil, domain.E(domain.KindUnexpected, "TokenStorage: redis is not a store the storage choice makes", "")
	}
	v := u.probe(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if kind, reason, ok := SettledStorage(u.settings, v); ok {
		if kind == domain.StorageKeychain {
			return u.stores.KeychainStore(reason), nil
		}
		return u.stores.FileStore(reason), nil
	}
	why := strings.TrimSuffix(v.Detail, ".")
	switch {
	case unattended(u.settings):
		return u.stores.MemoryStore("auto: the OS keychain is not usable: " + why + "; these credentials sign in again without a person, so nothing is kept"), nil
	case u.prompter.Interactive():
		return u.askConsent(ctx, why)
	}
	return nil, domain.E(domain.KindStorage,
		"the OS keychain is not usable: "+why+"; the encrypted file store needs your consent",
		"Either start and unlock a keyring (Secret Service), or set STELLA_TOKEN_STORAGE=file (TokenStorage: file) with STELLA_CACHE_PASSPHRASE; `stella auth doctor` checks both.")
}

// Named is the store the settings name (keychain, file, memory), made
// without I/O; ok is false for auto, and for redis, whose fleet cache is
// also the cross-host lock and is built with it by the composition root.
func (u *StorageChoice) Named() (st ports.SessionStore, ok bool) {
	reason := ChosenReason(u.settings)
	switch u.settings.TokenStorage {
	case domain.StorageKeychain:
		return u.stores.KeychainStore(reason), true
	case domain.StorageFile:
		return u.stores.FileStore(reason), true
	case domain.StorageMemory:
		return u.stores.MemoryStore(reason), true
	}
	return nil, false
}

// ChosenReason says where an explicit TokenStorage came from, for Info.
func ChosenReason(s domain.Settings) string {
	return "TokenStorage: " + string(s.TokenStorage) + " (" + SettingSource(s, "Authority.TokenStorage") + ")"
}

// SettingSource says where the setting key's value came from ("env
// STELLA_TOKEN_STORAGE", "config /path:12"), or "default".
func SettingSource(s domain.Settings, key string) string {
	for _, e := range s.Effective {
		if e.Key == key {
			return e.Source.String()
		}
	}
	return "default"
}

// SettledStorage is the choice a keychain verdict settles without asking
// anyone: the keychain when it answered, the encrypted file when it did
// not and a cache passphrase is configured. ok is false when a person
// must be asked, or the credentials end in memory. The composition root
// uses it with a remembered verdict to open the store ahead of need.
func SettledStorage(s domain.Settings, v ports.KeychainVerdict) (kind domain.StorageKind, reason string, ok bool) {
	switch {
	case v.OK:
		when := "just now"
		if v.Cached {
			when = "at " + v.At.Local().Format("15:04")
		}
		return domain.StorageKeychain, "auto: the OS keychain answered (checked " + when + ")", true
	case !s.CachePassphrase.IsZero():
		return domain.StorageFile, "auto: the OS keychain is not usable: " + strings.TrimSuffix(v.Detail, ".") +
			"; a cache passphrase is configured, so the encrypted file", true
	}
	return "", "", false
}

// probe asks the keychain unless a kept verdict still holds, and keeps
// the new verdict for the commands that follow — except, for credentials
// that end in memory when the keychain fails, a failure: memory leaves
// nothing on disk, so a verdict is kept only when the keychain is what
// they use. An interrupted probe is no verdict worth keeping.
func (u *StorageChoice) probe(ctx context.Context) ports.KeychainVerdict {
	now := u.clock.Now()
	if v, ok := u.keychain.Remembered(now); ok {
		return v
	}
	v := u.keychain.Probe(ctx, now)
	if ctx.Err() == nil && (v.OK || !unattended(u.settings)) {
		u.keychain.Remember(v)
	}
	return v
}

// askConsent asks the person at the terminal whether the encrypted file
// store may be used, and records a yes.
func (u *StorageChoice) askConsent(ctx context.Context, why string) (ports.SessionStore, error) {
	u.console.Say("The OS keychain is not usable here: " + why + ".")
	answer, err := u.prompter.Line(ctx, fmt.Sprintf("Keep sessions in passphrase-encrypted files in %s instead? [y/N] ", u.settings.TokenCacheDir))
	if err != nil {
		return nil, err
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return nil, domain.E(domain.KindStorage, "no credential store: the keychain is not usable and the file store was declined",
			"Start and unlock a keyring, or answer yes (or set TokenStorage: file) to use the encrypted file store.")
	}
	path, err := u.consent.RecordStorage(domain.StorageFile)
	if err != nil {
		return nil, err
	}
	u.console.Say("Remembered in " + path + " (TokenStorage: file).")
	return u.stores.FileStore("auto: the OS keychain is not usable; you chose the encrypted file (remembered in " + path + ")"), nil
}

// Keychain probes the keychain afresh for `auth doctor`, and says whether
// this configuration keeps its sessions there. The verdict is kept, as the
// choice's own probe keeps it — but storage that leaves nothing on disk
// (memory, or auto with credentials that end there) keeps only a verdict
// that auto will use the keychain by.
func (u *StorageChoice) Keychain(ctx context.Context) (used bool, err error) {
	s := u.settings
	v := u.keychain.Probe(ctx, u.clock.Now())
	leavesNothing := s.TokenStorage == domain.StorageMemory || (s.TokenStorage == domain.StorageAuto && unattended(s))
	if ctx.Err() == nil && (!leavesNothing || v.OK && s.TokenStorage == domain.StorageAuto) {
		u.keychain.Remember(v)
	}
	used = s.TokenStorage == domain.StorageKeychain || (s.TokenStorage == domain.StorageAuto && v.OK)
	if !v.OK {
		return used, domain.E(domain.KindStorage, v.Detail,
			"Start and unlock a keyring (Secret Service), or choose --token-storage file.")
	}
	return used, nil
}

// unattended reports whether the credentials sign in again without a
// person (a client secret, the legacy password grant) and no passphrase
// asks for the file store: then a keychain that fails means memory.
func unattended(s domain.Settings) bool {
	return s.CachePassphrase.IsZero() && (s.HasClientSecret() || !s.Password.IsZero())
}
