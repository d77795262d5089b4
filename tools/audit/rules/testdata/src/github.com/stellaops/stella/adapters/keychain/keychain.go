package keychain

import (
	keyring "github.com/zalando/go-keyring"

	"github.com/stellaops/stella/adapters/storetest" // want `audit\(layer-adapter\): adapters/keychain must not import another adapter`
)

var _ = keyring.Get
var _ = storetest.Run
