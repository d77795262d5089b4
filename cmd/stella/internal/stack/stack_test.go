package stack

import (
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestImportsNothing keeps the package first in line: a package is
// initialised only after everything it imports, so one import would let
// the packages it pulls in run their initialisation on the small stack.
func TestImportsNothing(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			t.Errorf("%s imports %s: package stack must import nothing, or it is no longer initialised first", name, imp.Path.Value)
		}
	}
}

func TestGrow(t *testing.T) {
	grow() // must not fault or overflow; the runtime grows the stack to hold it
}
