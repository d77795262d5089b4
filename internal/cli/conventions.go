package cli

import (
	"slices"
	"strings"
)

// conventions rewrites the spellings users of gh, git and kubectl expect
// (SPEC §3) into kong's: bare `stella` and a bare command group print
// their help, `stella help [COMMAND…]` is `stella COMMAND… --help`, and
// `--version` before any command is `stella version`.
func conventions(args []string) []string {
	pos := positionals(args)
	switch {
	case len(pos) == 0 && !slices.Contains(args, "--version") && !slices.Contains(args, "--") && !awaitsValue(args):
		return append(slices.Clone(args), "--help")
	case len(pos) > 0 && args[pos[0]] == "help":
		out := slices.Delete(slices.Clone(args), pos[0], pos[0]+1)
		return append(out, "--help")
	case len(pos) == 1 && isCommandGroup(args[pos[0]]) && !slices.Contains(args, "--version"):
		return append(slices.Clone(args), "--help")
	}
	if i := slices.Index(args, "--version"); i >= 0 && (len(pos) == 0 || pos[0] > i) {
		out := slices.Clone(args)
		out[i] = "version"
		return out
	}
	return args
}

// awaitsValue reports whether the last argument is a flag still missing
// its value (`stella --profile`): kong says so better than the help would.
func awaitsValue(args []string) bool {
	if len(args) == 0 {
		return false
	}
	last := args[len(args)-1]
	return strings.HasPrefix(last, "--") && !strings.Contains(last, "=") && !takesNoValue(last) && last != "--version"
}

// positionals are the indexes of args that are not flags or flag values.
func positionals(args []string) []int {
	var out []int
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out
		case strings.HasPrefix(a, "--"):
			if !strings.Contains(a, "=") && !takesNoValue(a) && a != "--version" {
				i++ // the flag's value
			}
		case strings.HasPrefix(a, "-") && a != "-":
		default:
			out = append(out, i)
		}
	}
	return out
}
