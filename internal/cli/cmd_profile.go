package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

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
	if rt.globals.JSON {
		doc := profileListDoc{SchemaVersion: schemaVersion, Profiles: []profileEntry{}}
		for _, p := range profiles {
			e := profileEntry{Name: p.Name, Path: p.Path, Authority: p.AuthorityURL,
				ClientID: p.ClientID, Backend: p.BackendURL, Active: p.Name == s.Profile}
			if p.Broken != nil {
				e.Broken = domain.Printable(p.Broken.Error(), 500)
			}
			doc.Profiles = append(doc.Profiles, e)
		}
		return rt.emit(doc)
	}
	if len(profiles) == 0 {
		fmt.Fprintf(rt.Err(), "No profiles in %s/profiles. Create one as described in the README (\"Profiles\").\n", s.ConfigDir)
		return nil
	}
	tw := tabwriter.NewWriter(rt.Out(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROFILE\tAUTHORITY\tCLIENT\tBACKEND")
	for _, p := range profiles {
		mark := " "
		if p.Name == s.Profile {
			mark = "*"
		}
		if p.Broken != nil {
			fmt.Fprintf(tw, "%s %s\tbroken: %s\n", mark, p.Name, domain.Printable(p.Broken.Error(), 300))
			continue
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, p.Name, dash(p.AuthorityURL), dash(p.ClientID), dash(p.BackendURL))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Profile != "" {
		fmt.Fprintf(rt.Err(), "* the profile in use (%s); change it with `stella profile use NAME`.\n", profileVia(s))
	}
	for _, p := range profiles {
		if p.Broken != nil {
			fmt.Fprintf(rt.Err(), "hint: to fix profile %s: %s\n", p.Name, domain.HintFor(p.Broken))
		}
	}
	return nil
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

func printProfile(rt *Runtime, s domain.Settings) error {
	if rt.globals.JSON {
		return rt.emit(profileShowDoc{SchemaVersion: schemaVersion, Profile: s.Profile, ConfigDir: s.ConfigDir, Settings: s.Effective})
	}
	name := s.Profile
	if name == "" {
		name = "(none)"
	}
	fmt.Fprintf(rt.Out(), "Profile: %s\nConfig dir: %s\n\n", name, s.ConfigDir)
	tw := tabwriter.NewWriter(rt.Out(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, e := range s.Effective {
		v := dash(e.Value)
		if e.Source.Kind == domain.SourceDefault && e.Value != "" {
			v += " (default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, v, e.Source)
	}
	return tw.Flush()
}

// profileVia says how the profile in use was chosen.
func profileVia(s domain.Settings) string {
	switch s.ProfileSource {
	case domain.SourceFlag:
		return "--profile"
	case domain.SourceEnv:
		return "STELLA_PROFILE"
	case domain.SourceConfig:
		return "active, set by `stella profile use`"
	}
	return "default"
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
	if rt.globals.JSON {
		return rt.emit(profileUseDoc{SchemaVersion: schemaVersion, Active: c.Name, ConfigFile: path})
	}
	fmt.Fprintf(rt.Out(), "Active profile: %s (recorded in %s)\n", c.Name, path)
	if v := rt.globals.Profile; v != "" && v != c.Name {
		fmt.Fprintf(rt.Err(), "note: --profile %s still wins for this command line.\n", v)
	} else if v, ok := os.LookupEnv("STELLA_PROFILE"); ok && v != "" && v != c.Name {
		fmt.Fprintf(rt.Err(), "note: STELLA_PROFILE=%s is set and wins over the active profile; unset it to use %s.\n", domain.Printable(v, 64), c.Name)
	}
	return nil
}

type profileUseDoc struct {
	SchemaVersion int    `json:"schemaVersion"`
	Active        string `json:"active"`
	ConfigFile    string `json:"configFile"`
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
