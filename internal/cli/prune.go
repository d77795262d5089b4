package cli

import (
	"slices"
	"strings"
)

// topCommands are the CLI's command fields, by the name typed.
var topCommands = map[string]string{"auth": "Auth", "api": "API", "pack": "Pack", "profile": "Profile", "version": "Version"}

// commandGroups are the commands that only group others.
var commandGroups = map[string]bool{"auth": true, "pack": true, "profile": true}

// globalBoolFlags are the global flags that take no value.
var globalBoolFlags = map[string]bool{"--json": true, "--non-interactive": true, "--verbose": true, "--help": true}

// subCommands are the subcommands of the groups worth pruning: the group's
// struct and its command fields, by the name typed.
var subCommands = map[string]struct {
	group  string
	fields map[string]string
}{
	"auth": {"AuthCmd", map[string]string{"login": "Login", "logout": "Logout", "status": "Status", "whoami": "Whoami",
		"doctor": "Doctor", "token": "Token", "header": "Header"}},
	"profile": {"ProfileCmd", map[string]string{"list": "List", "show": "Show", "use": "Use"}},
}

// otherCommands returns a kong.IgnoreFields pattern for every command but
// the one args name (the top-level command and, in a group, its
// subcommand), or nothing when that is not certain (help asked for,
// completion, no or an unknown command). A wrong guess costs nothing but
// time: a parse that fails is redone on the whole model.
func otherCommands(args []string) []string {
	var named []string // the positional arguments, up to two
	for i := 0; i < len(args) && len(named) < 2; i++ {
		a := args[i]
		switch {
		case a == "--" || a == "-h" || a == "--help":
			return nil
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && !globalBoolFlags[a] {
				i++ // the flag's value
			}
		case strings.HasPrefix(a, "-"):
			// -v, -vv: no value
		default:
			named = append(named, a)
		}
	}
	if len(named) == 0 {
		return nil
	}
	field, ok := topCommands[named[0]]
	if !ok || slices.Contains(args, "--help") || slices.Contains(args, "-h") {
		return nil
	}
	// One pattern, not one per command: kong compiles each, and a regexp
	// compiled cold costs more than the commands it saves building.
	var top, sub []string
	for _, f := range topCommands {
		if f != field {
			top = append(top, f)
		}
	}
	top = append(top, "Completion")
	alt := `CLI\.(` + strings.Join(top, "|") + `)`
	if g, ok := subCommands[named[0]]; ok && len(named) == 2 {
		if keep, ok := g.fields[named[1]]; ok {
			for _, f := range g.fields {
				if f != keep {
					sub = append(sub, f)
				}
			}
			alt += `|` + g.group + `\.(` + strings.Join(sub, "|") + `)`
		}
	}
	return []string{`^(` + alt + `)$`}
}
