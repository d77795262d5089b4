// Command audit checks stella's architecture rules (ARCHITECTURE.md
// "Dependency rules", SPEC §6) with the analyzer in package rules:
//
//	go run ./tools/audit ./...                                    standalone; exits 3 on findings
//	go build -o $(go env GOPATH)/bin/audit ./tools/audit
//	go vet -vettool=$(go env GOPATH)/bin/audit ./...              as a vet tool
//
// The rules are rules.Default(); each finding names its rule: audit(layer-app): ...
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/stellaops/stella/tools/audit/rules"
)

func main() { singlechecker.Main(rules.New(rules.Default())) }
