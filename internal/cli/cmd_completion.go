package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
)

// CompletionCmd is `stella completion`.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

// Help is shown by `stella completion --help`.
func (CompletionCmd) Help() string {
	return `Prints a shell completion script for stella's commands and flags, generated
from the same command model that parses them, so it never goes stale. Profile
names are completed from the configuration directory as you type, and the
values of --auth-mode, --token-storage and the shells too; zsh and fish show
a description beside each candidate.

Examples:
  source <(stella completion bash)                           # bash, this shell
  mkdir -p ~/.zfunc && stella completion zsh > ~/.zfunc/_stella   # zsh: fpath+=(~/.zfunc) in ~/.zshrc
  mkdir -p ~/.config/fish/completions && stella completion fish > ~/.config/fish/completions/stella.fish`
}

// item is a word to complete with what it means.
type item struct{ name, help string }

// flagItem is a long flag and, when it takes a value, what completes it.
type flagItem struct {
	item
	value  bool   // takes a value
	values string // the value kind for `stella __complete` ("" none known: files)
}

// node is one command of the tree, as completion needs it.
type node struct {
	path  string // "auth login"
	subs  []item
	flags []flagItem
	args  string // what completes its positional argument, if anything
}

// flagValues and argValues name what completes a flag's value and a
// command's argument: the kind `stella __complete` answers.
var (
	flagValues = map[string]string{"profile": "profile", "auth-mode": "auth-mode", "token-storage": "token-storage"}
	argValues  = map[string]string{"profile show": "profile", "profile use": "profile", "completion": "shell"}
)

// completionValues are the fixed candidates with their meaning.
var completionValues = map[string][]item{
	"auth-mode": {{"dpop", "tokens bound to a per-session key (default)"}, {"mtls", "tokens bound to the client certificate"},
		{"bearer", "unbound bearer tokens"}},
	"token-storage": {{"auto", "the keychain, else the file store with consent (default)"}, {"keychain", "the OS keychain"},
		{"file", "passphrase-encrypted files"}, {"memory", "nothing kept"},
		{"redis", "client-credential sessions shared by a fleet (TokenCacheUrl)"}},
	"shell": {{"bash", "Bourne Again shell"}, {"zsh", "Z shell"}, {"fish", "friendly interactive shell"}},
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(strings.TrimSpace(s), ".")
}

func commandTree(app *kong.Application) []node {
	var out []node
	var walk func(n *kong.Node, path []string, inherited []flagItem)
	walk = func(n *kong.Node, path []string, inherited []flagItem) {
		flags := append([]flagItem(nil), inherited...)
		for _, f := range n.Flags {
			if f.Hidden {
				continue
			}
			flags = append(flags, flagItem{item: item{f.Name, firstLine(f.Help)}, value: !f.IsBool() && !f.IsCounter(), values: flagValues[f.Name]})
		}
		var subs []item
		for _, c := range n.Children {
			if c.Type == kong.CommandNode && !c.Hidden {
				subs = append(subs, item{c.Name, firstLine(c.Help)})
			}
		}
		sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
		sort.Slice(flags, func(i, j int) bool { return flags[i].name < flags[j].name })
		p := strings.Join(path, " ")
		if p == "" { // stella help COMMAND…: the commands follow
			subs = append([]item{{"help", "Show the help of a command"}}, subs...)
		}
		out = append(out, node{path: p, subs: subs, flags: flags, args: argValues[p]})
		for _, c := range n.Children {
			if c.Type == kong.CommandNode && !c.Hidden {
				walk(c, append(append([]string(nil), path...), c.Name), flags)
			}
		}
	}
	walk(app.Node, nil, nil)
	return out
}

// Run prints the script.
func (c *CompletionCmd) Run(rt *Runtime, kctx *kong.Context) error {
	tree := commandTree(kctx.Model)
	var script string
	switch c.Shell {
	case "bash":
		script = bashScript(tree)
	case "zsh":
		script = zshScript(tree)
	case "fish":
		script = fishScript(tree)
	}
	_, err := fmt.Fprint(rt.Out(), script)
	return err
}

// completeCandidates answers `stella __complete KIND`, which the scripts
// call for candidates known only at completion time: one per line, a tab,
// and what it is. It is no kong command, so it costs other commands nothing
// at start-up; it reads no settings beyond the configuration directory
// (--config-dir, STELLA_CONFIG_DIR, default).
func completeCandidates(args []string, stdio term.IO) (int, bool) {
	pos := positionals(args)
	if len(pos) == 0 || args[pos[0]] != "__complete" {
		return 0, false
	}
	bad := domain.E(domain.KindUsage, "__complete takes one of: profile, auth-mode, token-storage, shell",
		"It is called by the scripts of `stella completion`; run `stella completion --help`.")
	if len(pos) != 2 {
		return report(stdio, false, bad), true
	}
	rt := &Runtime{io: stdio}
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config-dir="); ok {
			rt.globals.ConfigDir = v
		} else if a == "--config-dir" && i+1 < len(args) {
			rt.globals.ConfigDir = args[i+1]
		}
	}
	kind := args[pos[1]]
	items, known := completionValues[kind]
	if !known && kind != "profile" {
		return report(stdio, false, bad), true
	}
	if kind == "profile" {
		profiles, _ := config.ListProfiles(rt.fallbackSettings().ConfigDir)
		for _, p := range profiles {
			what := p.AuthorityURL
			switch {
			case p.Broken != nil:
				what = "broken"
			case what == "":
				what = "no Authority URL"
			}
			if p.Broken == nil && p.ClientID != "" {
				what += " as " + p.ClientID
			}
			items = append(items, item{p.Name, what})
		}
	}
	for _, it := range items {
		fmt.Fprintf(stdio.Out, "%s\t%s\n", it.name, oneLine(it.help))
	}
	return 0, true
}

// oneLine keeps a description on one line and free of tabs and control
// characters; profile contents are the user's, but still file text.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func names(list []item) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = v.name
	}
	return out
}

// dynamicFlags are the flags whose values `stella __complete` lists, in
// the order the scripts test them.
var dynamicFlags = []string{"auth-mode", "profile", "token-storage"}

// valueFlags is the case pattern of the flags that take a value.
func valueFlags(tree []node) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range tree {
		for _, f := range n.flags {
			if f.value && !seen[f.name] {
				seen[f.name] = true
				out = append(out, "--"+f.name)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, "|")
}

func bashScript(tree []node) string {
	var b strings.Builder
	b.WriteString("# bash completion for stella (generated by `stella completion bash`)\n_stella() {\n")
	b.WriteString("  local cur prev cmdpath=\"\" w i stella=\"${COMP_WORDS[0]}\"\n  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n")
	b.WriteString("  case \"$prev\" in\n")
	for _, flag := range dynamicFlags {
		kind := flagValues[flag]
		fmt.Fprintf(&b, "    --%s) COMPREPLY=($(compgen -W \"$(\"$stella\" __complete %s 2>/dev/null | cut -f1)\" -- \"$cur\")); return ;;\n", flag, kind)
	}
	fmt.Fprintf(&b, "    %s) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", valueFlags(tree))
	b.WriteString("  esac\n")
	b.WriteString("  for ((i = 1; i < COMP_CWORD; i++)); do\n    w=\"${COMP_WORDS[i]}\"\n")
	fmt.Fprintf(&b, "    case \"$w\" in %s) ((i++)); continue ;; -*) continue ;; esac\n", valueFlags(tree))
	b.WriteString("    case \"${cmdpath:+$cmdpath }$w\" in\n")
	for _, n := range tree[1:] {
		fmt.Fprintf(&b, "      %q) cmdpath=%q ;;\n", n.path, n.path)
	}
	b.WriteString("    esac\n  done\n  case \"$cmdpath\" in\n")
	// Flags when a dash is typed (or nothing else fits), else subcommands
	// and argument values.
	for _, n := range tree {
		words := strings.Join(names(n.subs), " ")
		if n.args != "" {
			words = strings.TrimSpace(words + fmt.Sprintf(" $(\"$stella\" __complete %s 2>/dev/null | cut -f1)", n.args))
		}
		if words == "" {
			fmt.Fprintf(&b, "    %q) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", n.path, dashed(n.flags))
			continue
		}
		fmt.Fprintf(&b, "    %q) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); else COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); fi ;;\n",
			n.path, dashed(n.flags), words)
	}
	b.WriteString("  esac\n}\ncomplete -F _stella stella\n")
	return b.String()
}

func dashed(flags []flagItem) string {
	w := make([]string, len(flags))
	for i, f := range flags {
		w[i] = "--" + f.name
	}
	return strings.Join(w, " ")
}

// zq quotes s for zsh in single quotes.
func zq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func zshScript(tree []node) string {
	var b strings.Builder
	b.WriteString("#compdef stella\n# zsh completion for stella (generated by `stella completion zsh`), with descriptions.\n")
	b.WriteString("_stella() {\n  local -a items\n  local cmdpath=\"\" w i\n")
	b.WriteString("  for ((i = 2; i < CURRENT; i++)); do\n    w=${words[i]}\n")
	fmt.Fprintf(&b, "    case $w in (%s) ((i++)); continue ;; (-*) continue ;; esac\n", valueFlags(tree))
	b.WriteString("    case \"${cmdpath:+$cmdpath }$w\" in\n")
	for _, n := range tree[1:] {
		fmt.Fprintf(&b, "      (%s) cmdpath=%s ;;\n", zq(n.path), zq(n.path))
	}
	b.WriteString("    esac\n  done\n")
	b.WriteString("  case ${words[CURRENT-1]} in\n")
	for _, flag := range dynamicFlags {
		kind := flagValues[flag]
		fmt.Fprintf(&b, "    (--%s) items=(${(f)\"$(${words[1]} __complete %s 2>/dev/null)\"}); items=(${items//$'\\t'/:}); _describe %s items; return ;;\n", flag, kind, zq(flag))
	}
	fmt.Fprintf(&b, "    (%s) _files; return ;;\n", valueFlags(tree))
	b.WriteString("  esac\n  case $cmdpath in\n")
	for _, n := range tree {
		var its []string
		for _, s := range n.subs {
			its = append(its, zq(s.name+":"+s.help))
		}
		if n.args != "" {
			fmt.Fprintf(&b, "    (%s) items=(${(f)\"$(${words[1]} __complete %s 2>/dev/null)\"}); items=(${items//$'\\t'/:})\n", zq(n.path), n.args)
		} else {
			fmt.Fprintf(&b, "    (%s) items=()\n", zq(n.path))
		}
		fmt.Fprintf(&b, "      items+=(%s)\n", strings.Join(its, " "))
		var fl []string
		for _, f := range n.flags {
			fl = append(fl, zq("--"+f.name+":"+f.help))
		}
		fmt.Fprintf(&b, "      [[ $PREFIX == -* ]] && items=(%s) ;;\n", strings.Join(fl, " "))
	}
	b.WriteString("  esac\n  _describe stella items\n}\n")
	b.WriteString("if [[ $funcstack[1] == _stella ]]; then _stella \"$@\"; else compdef _stella stella; fi\n")
	return b.String()
}

// fq quotes s for fish in double quotes.
func fq(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(s) + `"`
}

func fishScript(tree []node) string {
	var b strings.Builder
	b.WriteString("# fish completion for stella (generated by `stella completion fish`), with descriptions.\n")
	for _, n := range tree {
		cond := "__fish_use_subcommand"
		if n.path != "" {
			parts := strings.Fields(n.path)
			cond = "__fish_seen_subcommand_from " + parts[len(parts)-1]
		}
		subCond := cond // a group's subcommands only until one is typed
		if n.path != "" && len(n.subs) > 0 {
			subCond += "; and not __fish_seen_subcommand_from " + strings.Join(names(n.subs), " ")
		}
		for _, s := range n.subs {
			fmt.Fprintf(&b, "complete -c stella -f -n %s -a %s -d %s\n", fq(subCond), fq(s.name), fq(s.help))
		}
		if n.args != "" {
			fmt.Fprintf(&b, "complete -c stella -f -n %s -a %s\n", fq(cond), fq("(stella __complete "+n.args+" 2>/dev/null)"))
		}
		for _, f := range n.flags {
			line := fmt.Sprintf("complete -c stella -n %s -l %s -d %s", fq(cond), f.name, fq(f.help))
			switch {
			case f.values != "": // a value from the list, not a file
				line += " -x -a " + fq("(stella __complete "+f.values+" 2>/dev/null)")
			case f.value:
				line += " -r"
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
