package cli

import (
	"go.uber.org/fx"

	"github.com/stellaops/stella/adapters/auth"
	"github.com/stellaops/stella/adapters/browser"
	"github.com/stellaops/stella/adapters/clock"
	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/adapters/dpop"
	"github.com/stellaops/stella/adapters/filestore"
	"github.com/stellaops/stella/adapters/loopback"
	"github.com/stellaops/stella/adapters/random"
	"github.com/stellaops/stella/adapters/term"
	"github.com/stellaops/stella/adapters/transport"
	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// modules is the composition root: the one place adapters are chosen.
// early is the session store when it was opened ahead (storage.go).
// Modules are functions, not package variables: fx.Module and fx.Provide
// record their caller's stack, which at package initialisation would cost
// every command, `stella version` included, a fifth of a millisecond.
func modules(s domain.Settings, early *filestore.Store) ([]fx.Option, error) {
	store, err := storeModule(s, early)
	if err != nil {
		return nil, err
	}
	return []fx.Option{
		app.Module(),
		clock.Module(),
		dpop.Module(),
		transport.Module(),
		auth.Module(),
		store,
		browser.Module(),
		loopback.Module(),
		random.Module(),
		fx.Provide(
			func(t term.IO, s domain.Settings) ports.Prompter { return term.NewPrompter(t, s) },
			func(t term.IO) ports.Console { return term.NewConsole(t) },
			func() ports.RegularFiles { return config.Files{} },
			newInspector,
			newStoreKeys,
		),
	}, nil
}
