package keychain

import (
	keyring "github.com/zalando/go-keyring" // the keychain adapter owns the keyring

	"github.com/stellaops/stella/adapters/storetest" // want `audit\(layer-adapter\).*adapters/keychain imports github.com/stellaops/stella/adapters/storetest`
)

var _ = keyring.Get
var _ = storetest.Run

const Name = "keychain"
