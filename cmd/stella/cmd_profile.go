package main

import (
	"fmt"
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

// Run lists.
func (c *ProfileListCmd) Run(rt *Runtime) error {
	s, err := rt.Settings()
	if err != nil {
		return err
	}
	profiles, err := config.ListProfiles(s.ConfigDir)
	if err != nil {
		return err
	}
	if rt.globals.JSON {
		doc := profileListDoc{SchemaVersion: schemaVersion, Profiles: []profileEntry{}}
		for _, p := range profiles {
			doc.Profiles = append(doc.Profiles, profileEntry{Name: p.Name, Path: p.Path, Authority: p.AuthorityURL,
				ClientID: p.ClientID, Backend: p.BackendURL, Active: p.Name == s.Profile})
		}
		return writeJSON(rt.Out(), doc)
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
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, p.Name, dash(p.AuthorityURL), dash(p.ClientID), dash(p.BackendURL))
	}
	return tw.Flush()
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
		return writeJSON(rt.Out(), profileShowDoc{SchemaVersion: schemaVersion, Profile: s.Profile, ConfigDir: s.ConfigDir, Settings: s.Effective})
	}
	name := s.Profile
	if name == "" {
		name = "(none)"
	}
	fmt.Fprintf(rt.Out(), "Profile: %s\nConfig dir: %s\n\n", name, s.ConfigDir)
	tw := tabwriter.NewWriter(rt.Out(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE")
	for _, e := range s.Effective {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Key, dash(e.Value), e.Source)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
