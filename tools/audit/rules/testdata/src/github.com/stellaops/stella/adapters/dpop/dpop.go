package dpop

import (
	"example.com/vendorlib/adapters/auth" // third party, named like an adapter: allowed

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stellar/adapters/keychain" // another module with a prefix-like path: allowed
)

var _ = auth.Hello
var _ = keychain.Name

// Key reveals the private key to sign proofs: allowed here.
func Key(s domain.Secret) string { return s.Reveal() }
