// Package keychain reaches the operating system's secret store (macOS
// Keychain, Windows Credential Manager, the Secret Service on Linux)
// through github.com/zalando/go-keyring. It is the only package that
// imports that library.
//
// stella keeps one small random data key per session here, never the
// session itself: the session (long JWTs, an ID token, a DPoP key: 16 KB
// and more) does not fit every store (Windows caps an item at 2,560 bytes;
// macOS refuses large items), so the file store seals it with this key
// instead. That also means one keychain round trip per process.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/stellaops/stella/domain"
)

// Service is the name stella's items carry in the keychain.
const Service = "stella"

// DefaultTimeout bounds every keychain call: a hung D-Bus or a keyring
// waiting for an unlock dialog must not hang stella.
const DefaultTimeout = 3 * time.Second

// probeAccount is an item that never exists; looking it up tells whether
// the keychain answers at all.
const probeAccount = "stella-probe"

// Keys stores data keys in the keychain, one per account.
type Keys struct {
	service string
	timeout time.Duration
}

// New returns a key store for service; it does no I/O.
func New(service string, timeout time.Duration) *Keys {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Keys{service: service, timeout: timeout}
}

// Service is the keychain service name items are stored under.
func (k *Keys) Service() string { return k.service }

// Get returns the data key of account, or an error matching
// domain.ErrNotFound when there is none.
func (k *Keys) Get(ctx context.Context, account string) (domain.Secret, error) {
	var v string
	err := k.call(ctx, "read", func() (err error) {
		v, err = get(k.service, account)
		return err
	})
	if err != nil {
		return domain.Secret{}, err
	}
	return domain.NewSecret(v), nil
}

// Set stores the data key of account.
func (k *Keys) Set(ctx context.Context, account string, key domain.Secret) error {
	return k.call(ctx, "write", func() error { return keyring.Set(k.service, account, key.Reveal()) })
}

// Delete removes the data key of account; a missing one is fine.
func (k *Keys) Delete(ctx context.Context, account string) error {
	err := k.call(ctx, "delete", func() error { return keyring.Delete(k.service, account) })
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	return err
}

// Probe tells whether the keychain answers, within the timeout.
func (k *Keys) Probe(ctx context.Context) error {
	_, err := k.Get(ctx, probeAccount)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	return err
}

// call runs one keychain operation with a deadline. go-keyring takes no
// context, so the call runs on its own goroutine; on timeout it is
// abandoned (the process is short-lived) and stella moves on.
func (k *Keys) call(ctx context.Context, what string, op func() error) error {
	if err := sessionBus(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return translate(what, err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return ctx.Err()
		}
		return domain.E(domain.KindStorage,
			fmt.Sprintf("the OS keychain did not answer within %s", k.timeout),
			"Unlock the keyring (or start its daemon), or choose --token-storage file; `stella auth doctor` checks it.")
	}
}

// sessionBus refuses, on Linux and the BSDs, to go on without a D-Bus
// session bus: the D-Bus library would otherwise autolaunch a bus daemon
// for every stella process and leave it running.
func sessionBus() error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "bus")); err == nil {
			return nil
		}
	}
	return domain.E(domain.KindStorage, "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service",
		"Run stella in a desktop session with a keyring, or choose --token-storage file.")
}

func translate(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("keychain item: %w", domain.ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return domain.Wrap(domain.KindStorage, err, "the OS keychain refused an item as too large",
			"Report this as a bug; as a workaround choose --token-storage file.")
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return domain.Wrap(domain.KindStorage, err, "this platform has no OS keychain stella can use",
			"Choose --token-storage file (encrypted with a passphrase).")
	}
	return domain.Wrap(domain.KindStorage, err, "the OS keychain failed to "+what+" an item",
		"Check that a keyring (Secret Service, Keychain, Credential Manager) is running and unlocked, or choose --token-storage file.")
}
