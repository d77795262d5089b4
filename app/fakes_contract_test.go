package app

import (
	"testing"

	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

// TestFakeStoreContract holds the app's store fake to the contract every
// real store passes.
func TestFakeStoreContract(t *testing.T) {
	storetest.Run(t, "app-fake", func(*testing.T) ports.SessionStore { return newStore() })
}
