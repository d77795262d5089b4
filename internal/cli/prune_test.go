package cli

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestOtherCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		keep string // the command left in the model; "" for the whole model
		sub  string // and the subcommand left in its group, when pruned that deep
	}{
		{[]string{"version"}, "Version", ""},
		{[]string{"--profile", "ci", "auth", "token"}, "Auth", "Token"},
		{[]string{"auth", "--profile", "ci", "status", "--json"}, "Auth", "Status"},
		{[]string{"auth", "nope"}, "Auth", ""},
		{[]string{"auth"}, "Auth", ""},
		{[]string{"profile", "show", "ci"}, "Profile", "Show"},
		{[]string{"--profile=ci", "-v", "--json", "api", "GET", "/x"}, "API", ""},
		{[]string{"--timeout", "5m", "pack", "approve"}, "Pack", ""},
		{[]string{"auth", "login", "--help"}, "", ""},
		{[]string{"-h"}, "", ""},
		{[]string{"completion", "bash"}, "", ""},
		{[]string{"nope"}, "", ""},
		{[]string{}, "", ""},
	} {
		got := otherCommands(tc.args)
		if tc.keep == "" {
			if got != nil {
				t.Errorf("%v: pruned %v, want the whole model", tc.args, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%v: patterns %v, want one", tc.args, got)
		}
		ignored := regexp.MustCompile(got[0]).MatchString
		for _, f := range append(slices.Collect(maps.Values(topCommands)), "Completion") {
			if ignored("CLI."+f) == (f == tc.keep) {
				t.Errorf("%v: %q ignores CLI.%s: %v", tc.args, got[0], f, ignored("CLI."+f))
			}
		}
		for typed, g := range subCommands {
			for _, f := range g.fields {
				want := topCommands[typed] == tc.keep && tc.sub != "" && f != tc.sub
				if ignored(g.group+"."+f) != want {
					t.Errorf("%v: %q ignores %s.%s: %v, want %v", tc.args, got[0], g.group, f, !want, want)
				}
			}
		}
	}
}

// subCommands must name every command of its groups as kong does, or
// naming a subcommand would prune the wrong part of the model.
func TestSubCommandsMatchTheCLI(t *testing.T) {
	cli := reflect.TypeFor[CLI]()
	for typed, g := range subCommands {
		field, ok := cli.FieldByName(topCommands[typed])
		if !ok || field.Type.Name() != g.group {
			t.Fatalf("%s: CLI.%s is not a %s", typed, topCommands[typed], g.group)
		}
		want := map[string]string{}
		for i := range field.Type.NumField() {
			f := field.Type.Field(i)
			if _, cmd := f.Tag.Lookup("cmd"); !cmd {
				continue
			}
			name := f.Tag.Get("name")
			if name == "" {
				name = strings.ToLower(f.Name) // kong's name for a one-word field
			}
			want[name] = f.Name
		}
		if !reflect.DeepEqual(want, g.fields) {
			t.Errorf("%s: subCommands has %v, the CLI %v", typed, g.fields, want)
		}
	}
}
