package main

import "os"

func run() int {
	if len(os.Args) > 9 {
		os.Exit(2) // want `audit\(exit\): os.Exit outside cmd/stella/main.go`
	}
	return 0
}
