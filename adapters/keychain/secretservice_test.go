//go:build linux

package keychain

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"

	"github.com/stellaops/stella/domain"
)

// gnomeInternal is gnome-keyring's interface for creating and unlocking a
// collection with a password given over the bus, without a prompt: what
// a test needs to lock a keyring and unlock it again on a headless box.
const gnomeInternal = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"

// testCollection creates a keyring of the test's own, so locking it leaves
// the login keyring (shared with every other package's tests) alone.
func testCollection(t *testing.T, conn *dbus.Conn, password string) dbus.ObjectPath {
	t.Helper()
	var disregard dbus.Variant
	var session dbus.ObjectPath
	svc := conn.Object(secretsName, secretsPath)
	if err := svc.Call(serviceInterface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&disregard, &session); err != nil {
		t.Fatal(err)
	}
	props := map[string]dbus.Variant{"org.freedesktop.Secret.Collection.Label": dbus.MakeVariant(t.Name())}
	var coll dbus.ObjectPath
	err := svc.Call(gnomeInternal+".CreateWithMasterPassword", 0, props, ss.NewSecret(session, password)).Store(&coll)
	if err != nil {
		t.Skipf("this Secret Service is not gnome-keyring (%v): no way to unlock a keyring without a prompt", err)
	}
	t.Cleanup(func() { conn.Object(secretsName, coll).Call("org.freedesktop.Secret.Collection.Delete", 0) })
	return coll
}

func TestLockedItemIsUnlockedNotMissing(t *testing.T) {
	k := realKeychain(t)
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	const password = "test-collection-password"
	coll := testCollection(t, conn, password)
	var disregard dbus.Variant
	var session dbus.ObjectPath
	svc := conn.Object(secretsName, secretsPath)
	if err := svc.Call(serviceInterface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&disregard, &session); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"service": k.Service(), "username": "acct"}
	props := map[string]dbus.Variant{
		"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant("stella test"),
		"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(attrs),
	}
	var item, prompt dbus.ObjectPath
	if err := conn.Object(secretsName, coll).Call("org.freedesktop.Secret.Collection.CreateItem", 0, props, ss.NewSecret(session, "data-key"), true).Store(&item, &prompt); err != nil {
		t.Fatal(err)
	}
	var locked []dbus.ObjectPath
	if err := svc.Call(serviceInterface+".Lock", 0, []dbus.ObjectPath{coll}).Store(&locked, &prompt); err != nil || len(locked) != 1 {
		t.Fatalf("Lock = %v, %v", locked, err)
	}

	// Headless, the unlock prompt cannot be shown: the read fails as a
	// storage error, and never says the item is missing.
	ctx := context.Background()
	_, err = k.Get(ctx, "acct")
	if err == nil || errors.Is(err, domain.ErrNotFound) || domain.KindOf(err) != domain.KindStorage {
		t.Fatalf("Get of a locked item = %v, want a storage error that is not ErrNotFound", err)
	}

	if err := svc.Call(gnomeInternal+".UnlockWithMasterPassword", 0, coll, ss.NewSecret(session, password)).Err; err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(ctx, "acct")
	if err != nil || got.Reveal() != "data-key" {
		t.Fatalf("after unlocking: %d bytes, %v", len(got.Reveal()), err)
	}
}

// TestReadClosesItsSession: a long-lived process reading many times must
// not pile up sessions in the keyring daemon.
func TestReadClosesItsSession(t *testing.T) {
	k := realKeychain(t)
	ctx := context.Background()
	if err := k.Set(ctx, "acct", domain.NewSecret(strings.Repeat("k", 44))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, "acct") })
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	sessions := func() int {
		var xml string
		if err := conn.Object(secretsName, "/org/freedesktop/secrets/session").Call("org.freedesktop.DBus.Introspectable.Introspect", 0).Store(&xml); err != nil {
			t.Fatal(err)
		}
		return strings.Count(xml, "<node name=")
	}
	before := sessions()
	for i := range 20 {
		if _, err := k.Get(ctx, "acct"); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	// Close is sent without waiting for its answer, and the daemon may
	// answer other calls before it handles it: give it a moment.
	after := sessions()
	for deadline := time.Now().Add(2 * time.Second); after != before && time.Now().Before(deadline); after = sessions() {
		time.Sleep(10 * time.Millisecond)
	}
	if after != before {
		t.Fatalf("%d sessions open after 20 reads, %d before", after, before)
	}
}

// TestFreshConnections reads through many new bus connections, as many
// stella processes in a row do: each is a new client to the keyring
// daemon, and the first calls of a client must not fail.
func TestFreshConnections(t *testing.T) {
	k := realKeychain(t)
	ctx := context.Background()
	if err := k.Set(ctx, "acct", domain.NewSecret("data-key")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Delete(ctx, "acct") })
	n := 400
	if testing.Short() {
		n = 50
	}
	for i := range n {
		conn, err := dbus.SessionBusPrivate()
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Auth(nil); err != nil {
			t.Fatal(err)
		}
		if err := conn.Hello(); err != nil {
			t.Fatal(err)
		}
		v, err := read(conn, secretsName, k.Service(), "acct")
		conn.Close()
		if err != nil || v != "data-key" {
			t.Fatalf("read %d through a new connection: %q, %v", i, v, err)
		}
	}
}

// fakeSecrets is a Secret Service on the session bus under a unique name,
// scripted to fail its first searches the way gnome-keyring does for a
// client it has not registered yet.
type fakeSecrets struct {
	mu       sync.Mutex
	failures int // searches left to fail
	items    []dbus.ObjectPath
	searches int
	closed   int
}

func (f *fakeSecrets) SearchItems(map[string]string) ([]dbus.ObjectPath, []dbus.ObjectPath, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches++
	if f.failures > 0 {
		f.failures--
		return nil, nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownMethod", []any{"Method SearchItems is not implemented on interface org.freedesktop.Secret.Service"})
	}
	return f.items, nil, nil
}

func (f *fakeSecrets) OpenSession(string, dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
	return dbus.MakeVariant(""), "/org/freedesktop/secrets/session/s1", nil
}

type fakeItem struct{}

func (fakeItem) GetSecret(session dbus.ObjectPath) (ss.Secret, *dbus.Error) {
	return ss.NewSecret(session, "data-key"), nil
}

type fakeSession struct{ f *fakeSecrets }

func (s fakeSession) Close() *dbus.Error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.closed++
	return nil
}

func TestReadRetriesAnUnregisteredClientOnce(t *testing.T) {
	const item = dbus.ObjectPath("/org/freedesktop/secrets/collection/login/1")
	for _, tc := range []struct {
		name         string
		failures     int
		items        []dbus.ObjectPath
		wantErr      bool
		wantNotFound bool
		wantSearches int
	}{
		{name: "first search refused, second answers", failures: 1, items: []dbus.ObjectPath{item}, wantSearches: 2},
		{name: "refused twice: the error stands", failures: 2, items: []dbus.ObjectPath{item}, wantErr: true, wantSearches: 2},
		{name: "no such item: not retried", items: nil, wantNotFound: true, wantSearches: 1},
		{name: "found at once", items: []dbus.ObjectPath{item}, wantSearches: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := privateBus(t), privateBus(t)
			f := &fakeSecrets{failures: tc.failures, items: tc.items}
			for path, iface := range map[dbus.ObjectPath]struct {
				v    any
				name string
			}{
				secretsPath:                           {f, serviceInterface},
				item:                                  {fakeItem{}, "org.freedesktop.Secret.Item"},
				"/org/freedesktop/secrets/session/s1": {fakeSession{f}, "org.freedesktop.Secret.Session"},
			} {
				if err := server.Export(iface.v, path, iface.name); err != nil {
					t.Fatal(err)
				}
			}
			v, err := read(client, server.Names()[0], "stella", "acct")
			switch {
			case tc.wantNotFound:
				if !errors.Is(err, keyring.ErrNotFound) {
					t.Fatalf("read = %q, %v; want ErrNotFound", v, err)
				}
			case tc.wantErr:
				if err == nil {
					t.Fatalf("read = %q; want the service's error", v)
				}
			case err != nil || v != "data-key":
				t.Fatalf("read = %q, %v", v, err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.searches != tc.wantSearches {
				t.Errorf("searches = %d, want %d", f.searches, tc.wantSearches)
			}
		})
	}
}

// privateBus is a connection of the test's own to the session bus; the
// test skips (fails, where the keychain is required) without one.
func privateBus(t *testing.T) *dbus.Conn {
	t.Helper()
	conn, err := dbus.SessionBusPrivate()
	if err == nil {
		if err = conn.Auth(nil); err == nil {
			err = conn.Hello()
		}
	}
	if err != nil {
		if os.Getenv("STELLA_TEST_KEYCHAIN") == "require" {
			t.Fatalf("STELLA_TEST_KEYCHAIN=require but there is no session bus: %v", err)
		}
		t.Skipf("no D-Bus session bus (%v); run under scripts/with-keyring.sh", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
