package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
)

// askedJSON reports whether --json is on the command line (before "--").
func askedJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

func usageError(err error, kctx *kong.Context) error {
	hint := "Run `stella --help` to see the commands."
	var pe *kong.ParseError
	if kctx == nil && errors.As(err, &pe) {
		kctx = pe.Context
	}
	path := ""
	if kctx != nil {
		path = commandPath(kctx)
	}
	if kctx != nil && path == "" {
		if word, full := subcommandNamed(kctx); full != "" {
			what := "its commands"
			if !strings.Contains(full, " ") {
				what = "its flags and an example"
			}
			return domain.E(domain.KindUsage, fmt.Sprintf("unknown command %q", domain.Printable(word, 40)),
				"Did you mean `stella "+full+"`? Run `stella "+strings.Fields(full)[0]+" --help` to see "+what+".")
		}
	}
	group := path != "" && isCommandGroup(path)
	switch {
	case group:
		hint = "Run `stella " + path + " --help` to see its commands."
	case path != "":
		hint = "Run `stella " + path + " --help` to see its flags and an example."
	}
	if path != "" && !group && strings.HasPrefix(err.Error(), "unexpected argument ") {
		// Not the word itself: after a command, a stray word is as
		// likely a secret typed in the wrong place (auth login hunter2)
		// as a typo, and it is on the user's screen already (gh says
		// "accepts 0 arg(s), received 1"). After a group the word is a
		// would-be subcommand, and kong's "did you mean" helps.
		return domain.E(domain.KindUsage, "too many arguments for `stella "+path+"`", hint)
	}
	if rest, ok := strings.CutPrefix(err.Error(), "unexpected argument "); ok && (path == "" || group) {
		// A would-be command, where it goes: named back only with kong's
		// suggestion, which it gives for a word a few edits from a
		// command (a typo, auth stauts), never for a token or a password
		// pasted in (stella eyJ…, stella auth hunter2).
		if word, _, suggested := strings.Cut(rest, ", did you mean "); suggested && len(word) <= maxEchoedCommand {
			return domain.E(domain.KindUsage, err.Error(), hint)
		}
		return domain.E(domain.KindUsage, "`"+strings.TrimSpace("stella "+path)+"` has no such command", hint)
	}
	if msg, cut := withoutValue(err.Error()); cut {
		if strings.HasPrefix(msg, "--password:") {
			return domain.E(domain.KindUsage, "--password takes no value: it picks the password grant, which reads STELLA_PASSWORD_FILE (or STELLA_PASSWORD)",
				"Put the password in a file only you can read and set STELLA_PASSWORD_FILE to it; then run `stella auth login --password`.")
		}
		return domain.E(domain.KindUsage, msg, hint)
	}
	return domain.Wrap(domain.KindUsage, err, "", hint)
}

// maxEchoedCommand bounds the length of a mistyped command that is named
// back: no command of stella's is longer than 10 characters.
const maxEchoedCommand = 16

// withoutValue cuts the value a flag was given out of kong's refusal of
// it ("--min-ttl: expected duration but got \"…\": …"): a value typed
// where it does not belong may be a secret (--password=…), and the user
// has it in front of them anyway.
func withoutValue(msg string) (string, bool) {
	if i := strings.Index(msg, ` but got "`); i >= 0 && strings.HasPrefix(msg, "-") {
		return msg[:i], true
	}
	return msg, false
}

// subcommandNamed finds a top-level word that names a subcommand of a
// group (`stella login` for `stella auth login`).
func subcommandNamed(kctx *kong.Context) (word, full string) {
	pos := positionals(kctx.Args)
	if len(pos) == 0 {
		return "", ""
	}
	word = kctx.Args[pos[0]]
	best, bestD := "", 3 // a typo: at most two edits away
	for _, g := range kctx.Model.Children {
		if g.Name == word {
			return "", ""
		}
		if d := domain.EditDistance(word, g.Name); d < bestD {
			best, bestD = g.Name, d
		}
		for _, c := range g.Children {
			if c.Type != kong.CommandNode || c.Hidden {
				continue
			}
			if c.Name == word || slices.Contains(c.Aliases, word) {
				return word, g.Name + " " + c.Name
			}
			if d := domain.EditDistance(word, c.Name); d < bestD {
				best, bestD = g.Name+" "+c.Name, d
			}
		}
	}
	if len(word) < 3 {
		return "", ""
	}
	return word, best
}

// report prints a failure of a command that produced no document.
func report(stdio term.IO, asJSON bool, err error) int {
	return finish(stdio, asJSON, nil, false, domain.Settings{}, err)
}

// finish ends an invocation and returns its exit code. Under --json it
// writes the one document of stdout: the command's result (doc), with an
// `error` member added when the command failed, or the error document
// alone when there is no result. When the command already wrote to stdout
// itself (the backend's body from `stella api`), a document after it would
// be a second one, so the failure is told on stderr only.
//
// A failure is one line saying what happened and one saying what to do
// next (SPEC §4) on stderr. The message is made of kinded errors whose
// texts never carry secrets; it is flattened to one line because servers'
// words can contain newlines.
//
// A hint that names the sign-in command names it for s's profile.
func finish(stdio term.IO, asJSON bool, doc any, wrote bool, s domain.Settings, err error) int {
	var body *errorBody
	code := 0
	if err != nil {
		kind := domain.KindOf(err)
		code = kind.ExitCode()
		msg := domain.Printable(err.Error(), 2000)
		// Hints quote servers' words too (scopes, URLs): the same sanitiser.
		hint := domain.Printable(s.HintFor(err), 2000)
		if kind == domain.KindUnexpected {
			msg = "unexpected failure (a bug in stella): " + msg
		}
		body = &errorBody{Kind: kind.String(), ExitCode: code, Message: msg, Hint: hint}
		defer fmt.Fprintf(stdio.Err, "error: %s\nhint: %s\n", msg, hint)
	}
	if asJSON && (doc != nil || (body != nil && !wrote)) {
		b, jerr := document(doc, body)
		if jerr != nil {
			fmt.Fprintf(stdio.Err, "error: unexpected failure (a bug in stella): cannot encode the JSON document: %v\nhint: Report this bug; run the command without --json meanwhile.\n", jerr)
			return domain.KindUnexpected.ExitCode()
		}
		// Through the same cleaner as every other output: a bidi or C1
		// character json.Marshal leaves raw becomes its \uXXXX escape, so
		// the document stays valid and means the same (SPEC §6).
		_, _ = term.NewSafeWriter(stdio.Out).Write(b)
	}
	return code
}

// countingWriter tells finish whether a command wrote to stdout itself.
type countingWriter struct {
	w io.Writer
	n int64
}

// Fd lets terminal detection see through the wrapper (^0: not a file).
func (c *countingWriter) Fd() uintptr {
	if f, ok := c.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
