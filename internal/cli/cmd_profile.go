package cli

import (
	"fmt"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/domain"
)

// ProfileListCmd is `stella profile list`.
type ProfileListCmd struct{}

// Help is shown by `stella profile list --help`.
func (ProfileListCmd) Help() string {
	return `Lists the profiles in <config dir>/profiles with their Authority, client and
backend.

Example:
  stella profile list`
}

// Run lists. It works when the selected profile is broken: listing it as
// broken is the point.
func (c *ProfileListCmd) Run(rt *Runtime) error {
	s, err := rt.Settings()
	if err != nil {
		if domain.KindOf(err) != domain.KindUsage {
			return err
		}
		s = rt.fallbackSettings()
		s.Profile = rt.selectedProfile()
	}
	profiles, err := config.ListProfiles(s.ConfigDir)
	if err != nil {
		return err
	}
	return printProfileList(rt, s, profiles)
}

// ProfileShowCmd is `stella profile show`.
type ProfileShowCmd struct {
	Name string `arg:"" optional:"" help:"Profile to show (default: the selected one)."`
}

// Help is shown by `stella profile show --help`.
func (ProfileShowCmd) Help() string {
	return `Prints the effective value of every setting and where it came from (flag,
environment, profile file and line, config.yaml, or default). Secrets are
shown as [redacted].

Examples:
  stella profile show
  stella profile show packs-approver --json`
}

// Run shows.
func (c *ProfileShowCmd) Run(rt *Runtime) error {
	s, err := rt.Settings()
	if c.Name != "" {
		s, err = rt.loadSettings(c.Name)
	}
	if err != nil {
		return err
	}
	return printProfile(rt, s)
}

// ProfileUseCmd is `stella profile use`.
type ProfileUseCmd struct {
	Name string `arg:"" help:"Profile to make active." predictor:"profile"`
}

// Help is shown by `stella profile use --help`.
func (ProfileUseCmd) Help() string {
	return `Makes a profile the active one: commands use it when neither --profile
nor STELLA_PROFILE names another. It is recorded in <config dir>/config.yaml
(StellaOps.ActiveProfile), keeping everything else the file says.

Examples:
  stella profile use packs-operator
  stella profile list                 # the active profile is marked *`
}

// Run records the choice.
func (c *ProfileUseCmd) Run(rt *Runtime) error {
	s := rt.fallbackSettings()
	path, err := config.UseProfile(s.ConfigDir, c.Name)
	if err != nil {
		return err
	}
	if _, err := rt.loadSettings(c.Name); err != nil {
		fmt.Fprintf(rt.Err(), "warning: profile %s is active but does not resolve: %s\n", c.Name, domain.Printable(err.Error(), 300))
	}
	return printProfileUse(rt, c.Name, path)
}
