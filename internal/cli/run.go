package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
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
	var cli CLI
	exit := -1
	var broken error // the command line definition itself is wrong: a bug
	parse := func(prune bool) (*kong.Context, error) {
		cli = CLI{}
		opts := []kong.Option{
			kong.Name("stella"),
			kong.Description(description),
			kong.Writers(stdio.Out, stdio.Err),
			kong.Exit(func(code int) {
				if exit < 0 {
					exit = code
				}
			}),
			kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		}
		if prune {
			opts = append(opts, kong.IgnoreFields(otherCommands(args)...))
		}
		parser, err := kong.New(&cli, opts...)
		if err != nil {
			broken = domain.Wrap(domain.KindUnexpected, err, "the command line definition is broken", "")
			return nil, broken
		}
		globalFlagsGroup(parser.Model)
		return parser.Parse(args)
	}
	// Building kong's model of every command costs about 1 ms, a third of
	// a start; the command named on the line needs only its own subtree.
	// Help, completion and every parse error use the whole model, so what
	// the user sees is the same.
	kctx, err := parse(len(otherCommands(args)) > 0)
	if err != nil && exit < 0 {
		kctx, err = parse(false)
	}
	if exit >= 0 { // --help was printed
		return exit
	}
	if broken != nil {
		return report(stdio, false, broken)
	}
	if err != nil {
		// kong stops at the first bad argument, so --json after it was
		// never parsed; the script that asked for JSON still gets it.
		return report(stdio, cli.JSON || askedJSON(args), usageError(err, kctx))
	}
	// Under --json the command hands its document to the runtime, which
	// writes it once, with the error (if any) inside: a script reading
	// stdout gets exactly one document, success or failure (SPEC §3).
	out := &countingWriter{w: stdio.Out}
	stdio.Out = out
	// Ctrl-C and SIGTERM cancel the command's context, so waits end cleanly
	// (exit 130). Commands that never wait skip the signal watcher, which
	// costs a thread at start-up.
	if !instant(kctx) {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	rt := &Runtime{ctx: ctx, io: stdio, globals: cli.Globals, build: buildInfo(), extra: extra, opts: opts}
	err = kctx.Run(rt)
	if ctx.Err() != nil && err != nil {
		// The cause is only "context canceled": say what happened instead.
		err = domain.E(domain.KindInterrupted, "interrupted", "Run the command again when you are ready.")
	}
	return finish(stdio, cli.JSON, rt.doc, out.n > 0, err)
}

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
	if kctx != nil && commandPath(kctx) == "" {
		if word, full := subcommandNamed(kctx); full != "" {
			what := "its commands"
			if !strings.Contains(full, " ") {
				what = "its flags and an example"
			}
			return domain.E(domain.KindUsage, fmt.Sprintf("unknown command %q", domain.Printable(word, 40)),
				"Did you mean `stella "+full+"`? Run `stella "+strings.Fields(full)[0]+" --help` to see "+what+".")
		}
	}
	if kctx != nil {
		if path := commandPath(kctx); path != "" {
			hint = "Run `stella " + path + " --help` to see its flags and an example."
			if commandGroups[path] {
				hint = "Run `stella " + path + " --help` to see its commands."
			}
		}
	}
	return domain.Wrap(domain.KindUsage, err, "", hint)
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
	case len(pos) == 1 && commandGroups[args[pos[0]]] && !slices.Contains(args, "--version"):
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
	return strings.HasPrefix(last, "--") && !strings.Contains(last, "=") && !globalBoolFlags[last] && last != "--version"
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
			if !strings.Contains(a, "=") && !globalBoolFlags[a] && a != "--version" {
				i++ // the flag's value
			}
		case strings.HasPrefix(a, "-") && a != "-":
		default:
			out = append(out, i)
		}
	}
	return out
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
		if d := editDistance(word, g.Name); d < bestD {
			best, bestD = g.Name, d
		}
		for _, c := range g.Children {
			if c.Type != kong.CommandNode || c.Hidden {
				continue
			}
			if c.Name == word || slices.Contains(c.Aliases, word) {
				return word, g.Name + " " + c.Name
			}
			if d := editDistance(word, c.Name); d < bestD {
				best, bestD = g.Name+" "+c.Name, d
			}
		}
	}
	if len(word) < 3 {
		return "", ""
	}
	return word, best
}

// editDistance is the Levenshtein distance of two short words.
func editDistance(a, b string) int {
	if len(a) > 32 || len(b) > 32 {
		return 99
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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

// report prints a failure of a command that produced no document.
func report(stdio term.IO, asJSON bool, err error) int {
	return finish(stdio, asJSON, nil, false, err)
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
func finish(stdio term.IO, asJSON bool, doc any, wrote bool, err error) int {
	var body *errorBody
	code := 0
	if err != nil {
		kind := domain.KindOf(err)
		code = kind.ExitCode()
		msg := domain.Printable(err.Error(), 2000)
		// Hints quote servers' words too (scopes, URLs): the same sanitiser.
		hint := domain.Printable(domain.HintFor(err), 2000)
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

// Runtime carries what every command needs; commands ask it for settings
// and use cases, so a command builds only what it uses.
type Runtime struct {
	ctx     context.Context
	io      term.IO
	globals Globals
	build   domain.BuildInfo

	settings *domain.Settings
	doc      any // the --json result the command handed over (see finish)
	log      *slog.Logger
	extra    []fx.Option
	clock    func() time.Time // for output in words; tests fix it
	opts     Options
}

func (rt *Runtime) now() time.Time {
	if rt.clock != nil {
		return rt.clock()
	}
	return rt.systemClock().Now()
}

// Settings resolves the configuration once per invocation.
func (rt *Runtime) Settings() (domain.Settings, error) {
	if rt.settings != nil {
		return *rt.settings, nil
	}
	s, err := rt.loadSettings(rt.globals.Profile)
	if err != nil {
		return domain.Settings{}, err
	}
	rt.settings = &s
	return s, nil
}

func (rt *Runtime) configInput(profile string) config.Input {
	g := rt.globals
	home, _ := os.UserHomeDir()
	return config.Input{
		Flags: config.Flags{
			Profile: profile, Authority: g.Authority, ClientID: g.ClientID, Scope: g.Scope, AddScope: g.AddScope, Backend: g.Backend,
			AuthMode: g.AuthMode, TokenStorage: g.TokenStorage, TokenCacheDir: g.TokenCacheDir, ConfigDir: g.ConfigDir,
			Timeout: g.Timeout, NonInteractive: g.NonInteractive, Verbose: g.Verbose, JSON: g.JSON,
		},
		LookupEnv: os.LookupEnv,
		Home:      home,
	}
}

// fallbackSettings is what is known when the configuration does not
// resolve: directories and defaults (config.Fallback).
func (rt *Runtime) fallbackSettings() domain.Settings {
	s := config.Fallback(rt.configInput(rt.globals.Profile))
	if !rt.io.StdinInteractive() {
		s.NonInteractive = true
	}
	return s
}

// selectedProfile is the profile named by --profile or STELLA_PROFILE.
func (rt *Runtime) selectedProfile() string {
	if rt.globals.Profile != "" {
		return rt.globals.Profile
	}
	return os.Getenv("STELLA_PROFILE")
}

func (rt *Runtime) loadSettings(profile string) (domain.Settings, error) {
	s, warnings, err := config.Load(rt.configInput(profile))
	if err != nil {
		return domain.Settings{}, err
	}
	// Prompts need a person at a terminal, whatever the settings say.
	if !rt.io.StdinInteractive() {
		s.NonInteractive = true
	}
	for _, w := range warnings {
		fmt.Fprintf(rt.io.Err, "warning: %s\n", domain.Printable(w.Message, 2000))
	}
	return s, nil
}

// Logger is the -v logger on stderr.
func (rt *Runtime) Logger() *slog.Logger {
	if rt.log == nil {
		rt.log = slog.New(term.NewLogHandler(rt.io.Err, rt.globals.Verbose))
	}
	return rt.log
}

// Populate builds the fx graph for this invocation and fills targets with
// the use cases a command asked for. fx constructs only what the targets
// need, and constructors do no I/O, so this is cheap.
func (rt *Runtime) Populate(targets ...any) error {
	s, err := rt.Settings()
	if err != nil {
		return err
	}
	return rt.populate(s, earlyStore(rt.ctx, s, rt.now(), rt.Logger()), targets...)
}

// populate builds the graph for settings s (the invocation's, or another
// profile's).
func (rt *Runtime) populate(s domain.Settings, early *filestore.Store, targets ...any) error {
	opts, err := modules(s, early)
	if err != nil {
		return err
	}
	app := fx.New(append(opts,
		fx.NopLogger,
		fx.Supply(s, rt.build, rt.io),
		fx.Provide(func() *slog.Logger { return rt.Logger() }),
		fx.Provide(func() ports.ProfileAuthorities { return profileAuthorities{rt} }),
		fx.Options(rt.extra...),
		rt.opts.fx(),
		fx.Populate(targets...),
	)...)
	if err := app.Err(); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return de
		}
		return domain.Wrap(domain.KindUnexpected, err, "cannot assemble the command", "")
	}
	return nil
}

// emit hands the command's --json document to the runtime, which writes it
// once the command has returned (finish), with its error if it failed.
func (rt *Runtime) emit(doc any) error {
	rt.doc = doc
	return nil
}

// Out is where results go; Err gets everything else. Both show any
// control, bidi or invisible character a printer let through as an escape
// (SPEC §6); RawOut is for data the user asked for byte for byte (a
// backend's body).
func (rt *Runtime) Out() io.Writer    { return term.NewSafeWriter(rt.io.Out) }
func (rt *Runtime) Err() io.Writer    { return term.NewSafeWriter(rt.io.Err) }
func (rt *Runtime) RawOut() io.Writer { return rt.io.Out }

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

// instant reports whether the command prints from what it has, with no
// network, storage or prompt to wait on.
func instant(kctx *kong.Context) bool {
	switch commandPath(kctx) {
	case "version", "completion", "profile list", "profile show", "profile use":
		return true
	}
	return false
}
