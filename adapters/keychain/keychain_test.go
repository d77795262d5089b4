package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/stellaops/stella/domain"
)

// realKeychain returns Keys on this machine's keychain under a service
// name of the test's own. Locally it skips, saying why, when there is no
// keychain; with STELLA_TEST_KEYCHAIN=require (CI) it fails instead.
func realKeychain(t *testing.T) *Keys {
	t.Helper()
	k := New(fmt.Sprintf("stella-test-%d", time.Now().UnixNano()), 5*time.Second)
	if err := k.Probe(context.Background()); err != nil {
		if os.Getenv("STELLA_TEST_KEYCHAIN") == "require" {
			t.Fatalf("STELLA_TEST_KEYCHAIN=require but the keychain does not answer: %v", err)
		}
		t.Skipf("no usable keychain here (%v); run under scripts/with-keyring.sh to test against a real Secret Service", err)
	}
	return k
}

func TestRoundTripOnRealKeychain(t *testing.T) {
	k := realKeychain(t)
	ctx := context.Background()
	if _, err := k.Get(ctx, "absent"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get(absent) = %v, want ErrNotFound", err)
	}
	for _, v := range []string{"short", strings.Repeat("k", 44), strings.Repeat("x", 4096)} {
		if err := k.Set(ctx, "acct", domain.NewSecret(v)); err != nil {
			t.Fatal(err)
		}
		got, err := k.Get(ctx, "acct")
		if err != nil || got.Reveal() != v {
			t.Fatalf("Get = %d bytes, %v; want %d bytes", len(got.Reveal()), err, len(v))
		}
	}
	if err := k.Delete(ctx, "acct"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, "acct"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, "acct"); err != nil {
		t.Fatalf("deleting a missing item: %v", err)
	}
}

func TestHungCallIsBounded(t *testing.T) {
	// A bus address, so the call gets as far as the (hung) operation.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
	k := New("stella-test", 50*time.Millisecond)
	block := make(chan struct{})
	defer close(block)
	err := k.call(context.Background(), "read", func() error { <-block; return nil })
	if domain.KindOf(err) != domain.KindStorage || !strings.Contains(err.Error(), "did not answer within 50ms") {
		t.Fatalf("err = %v, want a storage error naming the timeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := k.call(ctx, "read", func() error { <-block; return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
}

func TestErrorsHaveKinds(t *testing.T) {
	for _, tc := range []struct {
		in   error
		kind domain.Kind
	}{
		{errors.New("org.freedesktop.DBus.Error.ServiceUnknown"), domain.KindStorage},
		{keyring.ErrUnsupportedPlatform, domain.KindStorage},
		{keyring.ErrSetDataTooBig, domain.KindStorage},
	} {
		if got := domain.KindOf(translate("read", tc.in)); got != tc.kind {
			t.Errorf("translate(%v) kind = %v, want %v", tc.in, got, tc.kind)
		}
	}
	if err := translate("read", keyring.ErrNotFound); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("translate(ErrNotFound) = %v, want domain.ErrNotFound", err)
	}
	if err := translate("read", nil); err != nil {
		t.Errorf("translate(nil) = %v", err)
	}
}
