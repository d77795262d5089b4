package main

import (
	"os"

	"github.com/stellaops/stella/adapters/auth"
)

var _ = auth.Settings{}

func main() { os.Exit(run()) }
