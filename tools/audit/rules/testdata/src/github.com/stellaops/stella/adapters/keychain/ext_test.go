package keychain_test

import (
	"testing"

	"github.com/stellaops/stella/adapters/dpop"     // want `audit\(layer-adapter\).*adapters/keychain imports github.com/stellaops/stella/adapters/dpop`
	"github.com/stellaops/stella/adapters/keychain" // an external test imports its own package: allowed
	"github.com/stellaops/stella/ports/storetest"   // allowed in tests
)

func TestExt(t *testing.T) {
	_, _ = dpop.Key, keychain.Name
	storetest.Run()
}
