package rules_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/stellaops/stella/tools/audit/rules"
)

// TestRules runs the default configuration over stub packages at the real
// import paths. Each rule has a violation (// want) and a look-alike that
// must not be reported: a local type named Token, a Reveal method on another
// type, a TokenType field, a third-party package named like an adapter,
// panic in a _test.go file, a tool's main package that exits.
func TestRules(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), rules.New(rules.Default()), "github.com/stellaops/stella/...")
}
