package cli

import (
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/stellaops/stella/adapters/config"
)

func parserFor(t *testing.T, target any) *kong.Kong {
	t.Helper()
	p, err := kong.New(target, kong.Name("stella"), kong.Writers(io.Discard, io.Discard), kong.Exit(func(int) { t.Fatal("kong exited") }))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The tree derived from the CLI struct must name every command, group and
// value-less global flag exactly as kong's model of the whole CLI does, or
// a command line would be cut down to the wrong command, or a flag's value
// taken for a command.
func TestDerivedTreeMatchesKong(t *testing.T) {
	app := parserFor(t, &CLI{}).Model
	tree := cliTree()
	var walk func(path string, kn []*kong.Node, derived []command)
	walk = func(path string, kn []*kong.Node, derived []command) {
		var want, got []string
		for _, n := range kn {
			if n.Type == kong.CommandNode {
				want = append(want, n.Name)
			}
		}
		for _, c := range derived {
			got = append(got, c.name)
		}
		if !slices.Equal(want, got) {
			t.Fatalf("%q: derived commands %v, kong's %v", path, got, want)
		}
		for i, n := range kn {
			walk(strings.TrimSpace(path+" "+n.Name), n.Children, derived[i].children)
		}
	}
	walk("", app.Children, tree.commands)

	want := map[string]bool{}
	for _, f := range app.Flags {
		if f.IsBool() || f.IsCounter() {
			want["--"+f.Name] = true
		}
	}
	if !reflect.DeepEqual(want, tree.noValue) {
		t.Errorf("derived value-less flags %v, kong's %v", tree.noValue, want)
	}
	// A command whose Run is given the kong context may walk the model, so
	// it must see the whole of it.
	var whole func(cs []command)
	whole = func(cs []command) {
		for _, c := range cs {
			takesModel := false
			if run, ok := reflect.PointerTo(c.field.Type).MethodByName("Run"); ok {
				for i := range run.Type.NumIn() {
					takesModel = takesModel || run.Type.In(i) == reflect.TypeFor[*kong.Context]()
				}
			}
			if c.whole != takesModel {
				t.Errorf("%s: derived whole %v, its Run takes the kong context: %v", c.name, c.whole, takesModel)
			}
			whole(c.children)
		}
	}
	whole(tree.commands)
	if c := tree.find(tree.commands, "completion"); c == nil || !c.whole {
		t.Errorf("completion walks the whole model, derived %+v", c)
	}
	if !tree.prunable {
		t.Error("CLI has methods: every command line would parse the whole model")
	}
}

// A command line that names one command is parsed into a CLI cut down to
// it, and the parse gives what the whole CLI's gives: the same command and
// the same global flags.
func TestPrunedCLI(t *testing.T) {
	for _, tc := range []struct {
		line string
		keep string // the command path left in the model; "" for the whole CLI
		ok   bool   // the line parses
	}{
		{"version", "version", true},
		{"--profile ci auth token", "auth token", true},
		{"auth --profile ci status --json", "auth status", true},
		{"-v --token-storage file auth header --method POST --url https://x/y", "auth header", true},
		{"profile show ci", "profile show", true},
		{"--profile=ci -v --json api GET /x", "api", true},
		{"--timeout 5m pack approve --pack-run-id r --pack-gate-id g --pack-plan-hash sha256:x", "pack approve", true},
		{"-vv --add-scope a --add-scope=b auth token", "auth token", true},
		{"--timeout=5m --non-interactive --config-dir /c --token-cache-dir /t auth status", "auth status", true},
		{"--scope=--json auth token", "auth token", true}, // "--json" is a value here, not the flag
		{"--authority https://a --client-id c --backend https://b --auth-mode dpop auth login", "auth login", true},
		{"auth nope", "auth", false},
		{"--json auth token extra", "auth token", false},
		{"auth login --help", "", false},
		{"-h", "", false},
		{"completion bash", "", true},
		{"nope", "", false},
		{"", "", false},
	} {
		args := strings.Fields(tc.line)
		cut := prunedCLI(args)
		if tc.keep == "" {
			if cut != nil {
				t.Errorf("%q: cut down to %T, want the whole CLI", tc.line, cut)
			}
			continue
		}
		if cut == nil {
			t.Errorf("%q: the whole CLI, want it cut down to %q", tc.line, tc.keep)
			continue
		}
		// The cut-down model holds the kept path and nothing beside it.
		var kept []string
		for n := parserFor(t, cut).Model.Node; ; {
			var cmds []*kong.Node
			for _, c := range n.Children {
				if c.Type == kong.CommandNode {
					cmds = append(cmds, c)
				}
			}
			if len(cmds) != 1 || len(kept) == len(strings.Fields(tc.keep)) {
				break
			}
			n = cmds[0]
			kept = append(kept, n.Name)
		}
		if got := strings.Join(kept, " "); got != tc.keep {
			t.Errorf("%q: the cut-down CLI keeps %q, want %q", tc.line, got, tc.keep)
		}
		full := &CLI{}
		fctx, ferr := parserFor(t, full).Parse(args)
		pctx, perr := parserFor(t, cut).Parse(args)
		if (ferr == nil) != tc.ok || (perr == nil) != tc.ok {
			t.Errorf("%q: whole CLI err %v, cut-down err %v, want ok %v", tc.line, ferr, perr, tc.ok)
			continue
		}
		if !tc.ok {
			continue
		}
		if fctx.Command() != pctx.Command() {
			t.Errorf("%q: whole CLI runs %q, the cut-down one %q", tc.line, fctx.Command(), pctx.Command())
		}
		if g := parsedGlobals(cut); !reflect.DeepEqual(g, full.Globals) {
			t.Errorf("%q: cut-down globals %+v, whole CLI's %+v", tc.line, g, full.Globals)
		}
	}
}

// The cut-down CLI holds only the global flags the line may set: kong
// models every field it is given, and a line names few of them.
func TestPrunedCLIKeepsTheNamedGlobalFlags(t *testing.T) {
	for line, want := range map[string][]string{
		"version":                             {"help"},
		"-v --json auth token":                {"help", "verbose", "json"},
		"--profile=ci auth status":            {"help", "profile"},
		"--scope openid --timeout 1m version": {"help", "scope", "timeout"},
	} {
		var got []string
		for _, f := range parserFor(t, prunedCLI(strings.Fields(line))).Model.Flags {
			got = append(got, f.Name)
		}
		if slices.Sort(got); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%q: flags %v, want %v", line, got, want)
		}
	}
}

// A flag the cut-down CLI left out, given after all (a spelling the guess
// did not see), fails the cut-down parse, and Main parses again on the
// whole CLI: the line still runs.
func TestPrunedCLIFallsBackForAFlagItLeftOut(t *testing.T) {
	cut := prunedCLI([]string{"version"})
	if _, err := parserFor(t, cut).Parse([]string{"--json", "version"}); err == nil {
		t.Fatal("the cut-down CLI for `version` parsed --json, which it should not hold")
	}
}

// config.Flags has Globals' fields (the conversion in configInput makes
// the compiler say so); each one's flag tag must be the spelling kong
// gives the flag, since that is what a setting's source says and what a
// setting names to take the flag's value.
func TestGlobalsSpellAsConfigFlags(t *testing.T) {
	kongFlags := map[string]reflect.Type{} // kong's global flags: name, the field's type
	for _, f := range parserFor(t, &CLI{}).Model.Flags {
		if f.Target.IsValid() {
			kongFlags[f.Name] = f.Target.Type()
		}
	}
	flags := reflect.TypeFor[config.Flags]()
	for i := range flags.NumField() {
		g := reflect.TypeFor[Globals]().Field(i)
		want := "--" + kongName(g)
		if got := flags.Field(i).Tag.Get("flag"); got != want {
			t.Errorf("config.Flags.%s is spelled %q, kong's flag for Globals.%s is %q", flags.Field(i).Name, got, g.Name, want)
		}
		if kongFlags[kongName(g)] != g.Type {
			t.Errorf("Globals.%s: kong has no flag %s", g.Name, want)
		}
	}
}

func TestWithoutHelp(t *testing.T) {
	for _, tc := range []struct{ in, want reflect.StructTag }{
		{`name:"client-id" help:"OAuth client id." placeholder:"ID"`, `name:"client-id" placeholder:"ID"`},
		{`help:"Say \"hi\": now." default:"GET"`, `default:"GET"`},
		{`cmd:"" help:"Print a valid access token."`, `cmd:""`},
		{`short:"v" type:"counter"`, `short:"v" type:"counter"`},
		{``, ``},
		{`help:"unterminated`, `help:"unterminated`},
	} {
		if got := withoutHelp(tc.in); got != tc.want {
			t.Errorf("withoutHelp(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
