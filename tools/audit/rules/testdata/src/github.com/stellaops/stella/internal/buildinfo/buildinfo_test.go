package buildinfo

import (
	"testing"

	"github.com/stellaops/stella/adapters/auth" // tests may exercise adapters: allowed
)

func TestX(t *testing.T) { _ = auth.Raw }
