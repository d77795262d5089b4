package main

import (
	"os"

	"github.com/stellaops/stella/adapters/auth" // the composition root imports adapters
	"github.com/stellaops/stella/adapters/keychain"
)

var _ = auth.Settings{}
var _ = keychain.Name

func main() { os.Exit(run(nil)) }
