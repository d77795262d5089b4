package cli

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/kong"
)

// Building kong's model of every command costs about 1 ms, a third of a
// start, and the command named on the line needs only its own subtree. So
// a command line that certainly names one command is parsed into a CLI
// struct cut down to it: the same fields, tags and command types, without
// the other commands. Help, completion and every parse error use the whole
// CLI, so what the user sees is the same.
//
// What is cut is derived from the CLI struct itself (its `cmd` fields and
// their `name` tags), so a command added to the tree is pruned, and found
// by the argument conventions, without a table to keep in step;
// prune_test.go proves the derivation names what kong's model names.

// command is one command of the CLI tree, as typed.
type command struct {
	name     string
	field    reflect.StructField
	children []command // the commands of a group, in field order
	// whole: its Run takes the *kong.Context (completion walks the model),
	// so it is never parsed into a cut-down CLI.
	whole bool
	// sealed: the group's type has methods (a kong hook would be one), so
	// it is kept whole rather than rebuilt without its other commands.
	sealed bool
}

// cliCommands is the CLI's commands and which global flags take no value.
type cliCommands struct {
	globals reflect.StructField
	// flags are the global flags, each as a field without its help text
	// and the spellings that name it on a command line.
	flags    []globalFlag
	commands []command
	// noValue are the global flags that take no value (bools, counters and
	// kong's --help): the word after them is not their value.
	noValue map[string]bool
	// prunable: CLI has no methods of its own, so a struct rebuilt from its
	// fields parses the same.
	prunable bool
}

var cliTree = sync.OnceValue(func() *cliCommands { return deriveTree(reflect.TypeFor[CLI]()) })

func deriveTree(root reflect.Type) *cliCommands {
	t := &cliCommands{noValue: map[string]bool{"--help": true}, prunable: reflect.PointerTo(root).NumMethod() == 0}
	for i := range root.NumField() {
		f := root.Field(i)
		if f.Anonymous && f.Type == reflect.TypeFor[Globals]() {
			t.globals = f
			for j := range f.Type.NumField() {
				g := f.Type.Field(j)
				if g.Type.Kind() == reflect.Bool || g.Tag.Get("type") == "counter" {
					t.noValue["--"+kongName(g)] = true
				}
				t.flags = append(t.flags, globalFlag{field: unplaced(g), long: "--" + kongName(g), short: g.Tag.Get("short")})
			}
			continue
		}
		if c, ok := deriveCommand(f); ok {
			t.commands = append(t.commands, c)
		}
	}
	return t
}

// globalFlag is one field of Globals.
type globalFlag struct {
	field reflect.StructField
	long  string // --profile
	short string // v, or ""
}

// on reports whether args may set the flag: --name, --name=value, or its
// short letter in a -v or -vv word. Saying yes for a word that is really
// a value only keeps a field that was not needed.
func (g globalFlag) on(args []string) bool {
	for _, a := range args {
		switch {
		case a == g.long || strings.HasPrefix(a, g.long+"="):
			return true
		case g.short != "" && len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a[1:], g.short):
			return true
		}
	}
	return false
}

// modelRunner is a command whose Run walks kong's model. (Implements, not
// MethodByName: building a method's func type scans every type the binary
// holds, a quarter of a millisecond at start-up.)
type modelRunner interface {
	Run(rt *Runtime, kctx *kong.Context) error
}

func deriveCommand(f reflect.StructField) (command, bool) {
	if _, ok := f.Tag.Lookup("cmd"); !ok || f.Type.Kind() != reflect.Struct {
		return command{}, false
	}
	c := command{name: kongName(f), field: f, sealed: reflect.PointerTo(f.Type).NumMethod() > 0}
	c.whole = reflect.PointerTo(f.Type).Implements(reflect.TypeFor[modelRunner]())
	for i := range f.Type.NumField() {
		if sub, ok := deriveCommand(f.Type.Field(i)); ok {
			c.children = append(c.children, sub)
		}
	}
	return c, true
}

// kongName is the name kong gives a field: its name tag, or the field's
// name in lower case (every field here without a tag is one word; kong
// would dash a CamelCase one, which the test would catch).
func kongName(f reflect.StructField) string {
	if n := f.Tag.Get("name"); n != "" {
		return n
	}
	return strings.ToLower(f.Name)
}

func (t *cliCommands) find(cs []command, name string) *command {
	for i := range cs {
		if cs[i].name == name {
			return &cs[i]
		}
	}
	return nil
}

// isGroup reports whether the top-level command name only groups others.
func (t *cliCommands) isGroup(name string) bool {
	c := t.find(t.commands, name)
	return c != nil && len(c.children) > 0
}

// isCommandGroup reports whether a top-level command only groups others.
func isCommandGroup(name string) bool { return cliTree().isGroup(name) }

// takesNoValue reports whether a global flag is followed by no value.
func takesNoValue(flag string) bool { return cliTree().noValue[flag] }

// named are the first two positional words of args: the command and, in a
// group, its subcommand. ok is false when the line must see the whole
// model: help asked for, or "--" before any command.
func named(args []string) (words []string, ok bool) {
	for i := 0; i < len(args) && len(words) < 2; i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-h" || a == "--help":
			return nil, false
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && !takesNoValue(a) {
				i++ // the flag's value
			}
		case strings.HasPrefix(a, "-"):
			// -v, -vv: no value
		default:
			words = append(words, a)
		}
	}
	if slices.Contains(args, "--help") || slices.Contains(args, "-h") {
		return nil, false
	}
	return words, true
}

// prunedCLI returns a pointer to a new CLI struct cut down to the command
// args name (and, in a group, to its subcommand), or nil when that is not
// certain (help asked for, completion, no or an unknown command). A wrong
// guess costs nothing but time: a parse that fails is redone on the whole
// CLI.
//
// The cut-down CLI never prints help (help and every parse error use the
// whole CLI), so the fields it rebuilds (the global flags and the named
// commands) carry no help texts: kong runs each text it is given through
// its interpolation regexp when it builds a model, and those of the global
// flags alone were a third of what a parse allocated.
func prunedCLI(args []string) any {
	t := cliTree()
	words, ok := named(args)
	if !ok || len(words) == 0 || !t.prunable {
		return nil
	}
	top := t.find(t.commands, words[0])
	if top == nil || top.whole {
		return nil
	}
	field := unplaced(top.field)
	if len(words) == 2 && !top.sealed {
		if sub := t.find(top.children, words[1]); sub != nil {
			field.Type = reflect.StructOf([]reflect.StructField{unplaced(sub.field)})
		}
	}
	globals := reflect.StructField{Name: t.globals.Name, Type: t.globalsOn(args), Tag: `embed:""`}
	return reflect.New(reflect.StructOf([]reflect.StructField{globals, field})).Interface()
}

// globalsOn is Globals cut down to the flags args may set, without their
// help texts: kong builds a model of every field it is given, and a
// command line names few of the global flags, often none. A flag left out
// that the line does set is an unknown flag to the cut-down parse, which
// is then redone on the whole CLI.
func (t *cliCommands) globalsOn(args []string) reflect.Type {
	var fields []reflect.StructField
	for _, g := range t.flags {
		if g.on(args) {
			fields = append(fields, g.field)
		}
	}
	return reflect.StructOf(fields)
}

// unplaced is f, without its help text, as a field of a new struct
// (StructOf lays it out anew).
func unplaced(f reflect.StructField) reflect.StructField {
	f.Offset, f.Index, f.Anonymous = 0, nil, false
	f.Tag = withoutHelp(f.Tag)
	return f
}

// withoutHelp is tag without its help:"…" item (the conventional
// key:"value" format, values quoted as Go strings).
func withoutHelp(tag reflect.StructTag) reflect.StructTag {
	s, out := string(tag), ""
	for {
		s = strings.TrimLeft(s, " ")
		key, rest, ok := strings.Cut(s, ":")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			return tag // not the conventional format: left as it is
		}
		value, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return tag
		}
		if key != "help" {
			out += " " + key + ":" + value
		}
		if s = rest[len(value):]; strings.TrimSpace(s) == "" {
			return reflect.StructTag(strings.TrimPrefix(out, " "))
		}
	}
}

// parsedGlobals is the Globals of a CLI or of a struct prunedCLI made,
// whose global flags are some of Globals' fields, by name.
func parsedGlobals(target any) Globals {
	if c, ok := target.(*CLI); ok {
		return c.Globals
	}
	var g Globals
	out, in := reflect.ValueOf(&g).Elem(), reflect.ValueOf(target).Elem().Field(0)
	for i := range in.NumField() {
		out.FieldByName(in.Type().Field(i).Name).Set(in.Field(i))
	}
	return g
}
