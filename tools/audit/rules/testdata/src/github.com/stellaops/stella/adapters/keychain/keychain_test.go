package keychain

import (
	"os"
	"testing"

	"github.com/stellaops/stella/ports/storetest" // contract suites are shared with tests: allowed
)

func TestX(t *testing.T) {
	storetest.Run()
	if false {
		os.Exit(1) // tests may exit
	}
	panic("tests may panic")
}
