// Command audit checks stella's architecture rules (ARCHITECTURE.md):
//
//	go run ./tools/audit ./...                  standalone
//	go build -o bin/audit ./tools/audit && go vet -vettool=$PWD/bin/audit ./...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/stellaops/stella/tools/audit/rules"
)

func main() { singlechecker.Main(rules.New(rules.Default())) }
