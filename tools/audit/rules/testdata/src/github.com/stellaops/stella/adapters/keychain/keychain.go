package keychain

import (
	dbus "github.com/godbus/dbus/v5"        // and the bus under it
	keyring "github.com/zalando/go-keyring" // the keychain adapter owns the keyring

	"github.com/stellaops/stella/ports/storetest" // want `audit\(layer-adapter\).*adapters/keychain imports github.com/stellaops/stella/ports/storetest`
)

var _ = keyring.Get
var _ dbus.ObjectPath
var _ = storetest.Run

const Name = "keychain"
