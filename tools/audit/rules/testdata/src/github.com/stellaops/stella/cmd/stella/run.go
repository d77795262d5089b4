package main

import (
	"fmt"
	"os"

	"github.com/stellaops/stella/domain"
)

func run() int {
	if len(os.Args) > 9 {
		os.Exit(2) // want `audit\(exit\): os.Exit outside cmd/stella/main.go`
	}
	fmt.Println(domain.NewSecret("t").Reveal()) // `stella auth token` prints the token by design
	return 0
}
