package core

import (
	"os"

	"example.com/shop/infra/db" // want `audit\(layer-core\): core must import only the standard library \(core imports example.com/shop/infra/db\); keep it pure`
)

var _ = db.Open

func quit() {
	os.Exit(1) // allowed by this configuration
	panic("x") // want `audit\(exit\): panic outside main.go`
}
