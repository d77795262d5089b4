package jqrun

import "github.com/itchyny/gojq" // the helper's package owns gojq

// Compile parses expr.
func Compile(expr string) error {
	_, err := gojq.Parse(expr)
	return err
}
