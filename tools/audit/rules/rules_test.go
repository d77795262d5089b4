package rules_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/stellaops/stella/tools/audit/rules"
)

// Each stub package in testdata seeds violations (// want) and look-alikes
// that must not be reported.
func TestRules(t *testing.T) {
	m := "github.com/stellaops/stella/"
	analysistest.Run(t, analysistest.TestData(), rules.New(rules.Default()),
		m+"domain", m+"ports", m+"app", m+"adapters/auth", m+"adapters/transport", m+"adapters/filestore",
		m+"adapters/keychain", m+"cmd/stella", m+"tools/devauthority")
}
