package cli

import (
	"context"
	"runtime"
	"strings"

	"github.com/alecthomas/kong"
	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
)

// Set by the linker: -ldflags "-X github.com/stellaops/stella/internal/cli.version=1.2.3 …cli.commit=abc".
var (
	version = "dev"
	commit  = ""
)

func buildInfo() domain.BuildInfo {
	return domain.BuildInfo{Version: version, Commit: commit, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
}

const description = `stella signs you in to StellaOps Authority and calls StellaOps backends with
sender-constrained tokens.

Examples:
  stella auth login                         # sign in (browser, device code, or client credentials)
  stella auth status                        # what session is stored, until when
  stella api GET /api/v1/jobs               # an authenticated backend call
  stella auth logout                        # revoke and forget the session
  stella help auth login                    # a command's flags and examples (or: stella auth login --help)
  stella --version                          # the version`

// Main runs one stella command and returns its exit code. It never calls
// os.Exit, so tests can drive it.
func Main(ctx context.Context, args []string, stdio term.IO) int {
	return run(ctx, args, stdio)
}

// run is Main with extra fx options, which tests use to put spies on ports.
func run(ctx context.Context, args []string, stdio term.IO, extra ...fx.Option) int {
	return runWith(ctx, args, stdio, Options{}, extra...)
}

// runWith is run with a caller's Options (options.go).
func runWith(ctx context.Context, args []string, stdio term.IO, opts Options, extra ...fx.Option) int {
	args = conventions(args)
	if code, ok := completeCandidates(args, stdio); ok {
		return code
	}
	var target any // *CLI, or a cut-down CLI (prunedCLI)
	exit := -1
	var broken error // the command line definition itself is wrong: a bug
	parse := func(t any) (*kong.Context, error) {
		target, broken = t, nil
		opts := []kong.Option{
			kong.Name("stella"),
			kong.Writers(stdio.Out, stdio.Err),
			kong.Exit(func(code int) {
				if exit < 0 {
					exit = code
				}
			}),
			kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		}
		if _, whole := t.(*CLI); whole { // the one model that prints help
			opts = append(opts, kong.Description(description))
		}
		parser, err := kong.New(target, opts...)
		if err != nil {
			broken = domain.Wrap(domain.KindUnexpected, err, "the command line definition is broken", "")
			return nil, broken
		}
		globalFlagsGroup(parser.Model)
		return parser.Parse(args)
	}
	// The command named on the line needs only its own subtree (prune.go).
	var kctx *kong.Context
	var err error
	cut := prunedCLI(args)
	if cut != nil {
		kctx, err = parse(cut)
	}
	if (cut == nil || err != nil) && exit < 0 {
		kctx, err = parse(&CLI{})
	}
	if exit >= 0 { // --help was printed
		return exit
	}
	if broken != nil {
		return report(stdio, false, broken)
	}
	globals := parsedGlobals(target)
	if err != nil {
		// kong stops at the first bad argument, so --json after it was
		// never parsed; the script that asked for JSON still gets it.
		return report(stdio, globals.JSON || askedJSON(args), usageError(err, kctx))
	}
	// Under --json the command hands its document to the runtime, which
	// writes it once, with the error (if any) inside: a script reading
	// stdout gets exactly one document, success or failure (SPEC §3).
	out := &countingWriter{w: stdio.Out}
	stdio.Out = out
	// Ctrl-C and SIGTERM cancel the command's context once something waits
	// on it (interruptible).
	ictx := newInterruptible(ctx)
	defer ictx.close()
	ctx = ictx
	rt := &Runtime{ctx: ctx, io: stdio, globals: globals, build: buildInfo(), extra: extra, opts: opts}
	err = kctx.Run(rt)
	if ctx.Err() != nil && err != nil {
		// The cause is only "context canceled": say what happened instead.
		err = domain.E(domain.KindInterrupted, "interrupted", "Run the command again when you are ready.")
	}
	return finish(stdio, globals.JSON, rt.doc, out.n > 0, rt.hintSettings(), err)
}

// globalGroup is the heading of the inherited flags in every help.
var globalGroup = &kong.Group{Key: "global", Title: "Global Flags:"}

// globalFlagsGroup puts the global flags under their own heading, after
// the command's own (gh, kubectl). Set on the model rather than by struct
// tags: kong parses every tag on every start, and this costs nothing.
func globalFlagsGroup(app *kong.Application) {
	for _, f := range app.Flags {
		if f.Name != "help" {
			f.Group = globalGroup
		}
	}
}

func commandPath(kctx *kong.Context) string {
	var parts []string
	for _, p := range kctx.Path {
		if p.Command != nil {
			parts = append(parts, p.Command.Name)
		}
	}
	return strings.Join(parts, " ")
}
