package main

import "os"

// Only main.go decides the helper's exit.
func fail() { os.Exit(1) } // want `audit\(exit\): os.Exit outside cmd/stella/main.go, cmd/stella-jq/main.go`
