package cli

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stellaops/stella/adapters/keychain"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// TestKeychainContract runs the store contract (16 KB and 64 KB sessions
// included) against the keychain storage as the binary composes it
// (sealedByKeychain: a file store whose data keys are in the keychain; it
// needs both adapters, so only the composition root can build it), on
// this machine's real keychain. Locally it skips when there is none; CI
// sets STELLA_TEST_KEYCHAIN=require and runs it under
// scripts/with-keyring.sh (a real gnome-keyring Secret Service).
func TestKeychainContract(t *testing.T) {
	keys := keychain.New(fmt.Sprintf("stella-test-%d", time.Now().UnixNano()), 5*time.Second)
	if err := keys.Probe(context.Background()); err != nil {
		if os.Getenv("STELLA_TEST_KEYCHAIN") == "require" {
			t.Fatalf("STELLA_TEST_KEYCHAIN=require but the keychain does not answer: %v", err)
		}
		t.Skipf("no usable keychain here (%v); run under scripts/with-keyring.sh", err)
	}
	storetest.Run(t, "keychain", func(t *testing.T) ports.SessionStore {
		return sealedByKeychain(t.TempDir(), keys, "test", storeKeys{})
	})
}
