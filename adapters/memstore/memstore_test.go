package memstore_test

import (
	"testing"

	"github.com/stellaops/stella/adapters/memstore"
	"github.com/stellaops/stella/ports"
	"github.com/stellaops/stella/ports/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, "memory", func(*testing.T) ports.SessionStore { return memstore.New() })
}
