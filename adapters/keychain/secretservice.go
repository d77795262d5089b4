//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"errors"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

// The Secret Service names go-keyring's own secret_service package keeps
// unexported.
const (
	secretsName      = "org.freedesktop.secrets"
	secretsPath      = dbus.ObjectPath("/org/freedesktop/secrets")
	serviceInterface = "org.freedesktop.Secret.Service"
)

// get reads one item from the Secret Service in two round trips where
// go-keyring's Get takes seven (it checks the login collection's path,
// unlocks the collection and then the item, and waits for the session's
// Close). A read is on the path of every `stella auth token`, and each
// round trip crosses the bus daemon twice, so this is most of what reading
// a token costs on Linux.
//
// It asks the service itself to search (every collection, reporting
// locked and unlocked items apart) while a session opens, in parallel;
// then fetches the secret and closes the session without waiting for the
// answer. An item that is only found locked is unlocked first, through
// go-keyring's package, which handles the prompt that may need. Items are the ones
// go-keyring writes: attributes "service" and "username".
//
// gnome-keyring registers a new client in an idle callback that can run
// after the client's first calls are handled (gkd-secret-service.c), and
// those then fail (UnknownMethod, or a session that was never published):
// go-keyring's first call happens not to need the registration. So an
// error the service sent back is worth one more try, by then as a known
// client; errors from unlocking are not (the user may have said no).
func get(service, account string) (string, error) {
	conn, err := dbus.SessionBus() // shared with go-keyring's Set and Delete
	if err != nil {
		return "", err
	}
	return read(conn, secretsName, service, account)
}

// read is get from the Secret Service that owns dest on conn.
func read(conn *dbus.Conn, dest, service, account string) (string, error) {
	v, err := readOnce(conn, dest, service, account)
	var answer dbus.Error
	if errors.As(err, &answer) && !errors.As(err, new(unlockError)) {
		v, err = readOnce(conn, dest, service, account)
	}
	return v, err
}

// unlockError is a failure to unlock a locked item.
type unlockError struct{ error }

func (e unlockError) Unwrap() error { return e.error }

func readOnce(conn *dbus.Conn, dest, service, account string) (string, error) {
	svc := conn.Object(dest, secretsPath)
	search := svc.Go(serviceInterface+".SearchItems", 0, nil, map[string]string{"service": service, "username": account})
	open := svc.Go(serviceInterface+".OpenSession", 0, nil, "plain", dbus.MakeVariant(""))

	var unlocked, locked []dbus.ObjectPath
	searchErr := (<-search.Done).Store(&unlocked, &locked)
	var ignored dbus.Variant
	var session dbus.ObjectPath
	openErr := (<-open.Done).Store(&ignored, &session)
	if openErr == nil {
		defer conn.Object(dest, session).Go("org.freedesktop.Secret.Session.Close", dbus.FlagNoReplyExpected, nil)
	}
	if searchErr != nil {
		return "", searchErr
	}
	item, err := unlockedItem(unlocked, locked)
	if err != nil {
		return "", err
	}
	if openErr != nil {
		return "", openErr
	}
	var secret ss.Secret
	if err := conn.Object(dest, item).Call("org.freedesktop.Secret.Item.GetSecret", 0, session).Store(&secret); err != nil {
		return "", err
	}
	return string(secret.Value), nil
}

// unlockedItem picks the item to read: an unlocked one, or else a locked
// one that the service is asked to unlock, which may prompt the user (a
// locked keyring is not a missing item).
func unlockedItem(unlocked, locked []dbus.ObjectPath) (dbus.ObjectPath, error) {
	switch {
	case len(unlocked) > 0:
		return unlocked[0], nil
	case len(locked) == 0:
		return "", keyring.ErrNotFound
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		return "", err
	}
	if err := svc.Unlock(locked[0]); err != nil {
		return "", unlockError{err}
	}
	return locked[0], nil
}
