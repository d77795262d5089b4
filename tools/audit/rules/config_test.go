package rules_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/stellaops/stella/tools/audit/rules"
)

// TestConfig shows the rules come from the Config value, not from stella's
// layout: another module, other layers, another list of exits.
func TestConfig(t *testing.T) {
	cfg := rules.Config{
		Module: "example.com/shop",
		Layers: []rules.Layer{
			{Name: "core", Packages: "core/...", Rule: "core must import only the standard library", Hint: "keep it pure"},
			{Name: "infra", Packages: "infra/*/...", ThirdParty: true, Rule: "infra must not import infra", Hint: "compose in main"},
		},
		Exit: rules.Exit{Funcs: []rules.Func{{Path: "", Name: "panic"}}, AllowedFiles: []string{"main.go"}},
	}
	analysistest.Run(t, analysistest.TestData()+"/custom", rules.New(cfg), "example.com/shop/...")
}
