package app

import (
	"net/http"
	"os"
	"testing"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports/storetest" // the contract suite, for the fakes: allowed in tests
)

// Tests may reveal, build clients, hold raw-looking fields and exit.
type Fixture struct{ Password string }

func TestX(t *testing.T) {
	storetest.Run()
	_ = domain.NewSecret("s").Reveal()
	_ = &http.Client{}
	_, _ = http.Get("http://127.0.0.1/")
	_ = string(domain.Untrusted("a test compares the raw text")) + domain.Untrusted("x").Raw()
	if false {
		os.Exit(1)
	}
	panic("tests may panic")
}
