package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

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

// hintSettings are the settings a failure's hint names the sign-in command
// for: this invocation's once resolved, else the default profile's.
func (rt *Runtime) hintSettings() domain.Settings {
	if rt.settings != nil {
		return *rt.settings
	}
	return domain.Settings{}
}

func (rt *Runtime) configInput(profile string) config.Input {
	flags := config.Flags(rt.globals)
	flags.Profile = profile
	home, _ := os.UserHomeDir()
	return config.Input{
		Flags:     flags,
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
