package main

import (
	"slices"
	"testing"
)

func TestOtherCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		keep string // the command left in the model; "" for the whole model
	}{
		{[]string{"version"}, "Version"},
		{[]string{"--profile", "ci", "auth", "token"}, "Auth"},
		{[]string{"--profile=ci", "-v", "--json", "api", "GET", "/x"}, "API"},
		{[]string{"--timeout", "5m", "pack", "approve"}, "Pack"},
		{[]string{"auth", "login", "--help"}, ""},
		{[]string{"-h"}, ""},
		{[]string{"completion", "bash"}, ""},
		{[]string{"nope"}, ""},
		{[]string{}, ""},
	} {
		got := otherCommands(tc.args)
		if tc.keep == "" {
			if got != nil {
				t.Errorf("%v: pruned %v, want the whole model", tc.args, got)
			}
			continue
		}
		if len(got) != len(topCommands) || slices.Contains(got, `^CLI\.`+tc.keep+`$`) {
			t.Errorf("%v: ignores %v, want all but %s", tc.args, got, tc.keep)
		}
	}
}
