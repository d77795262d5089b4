package cli

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/stellaops/stella/adapters/config"
	"github.com/stellaops/stella/domain"
)

// profileListDoc is `stella profile list --json`.
type profileListDoc struct {
	SchemaVersion int            `json:"schemaVersion"`
	Profiles      []profileEntry `json:"profiles"`
}

type profileEntry struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Authority string `json:"authority,omitempty"`
	ClientID  string `json:"clientId,omitempty"`
	Backend   string `json:"backend,omitempty"`
	Active    bool   `json:"active"`
	Broken    string `json:"broken,omitempty"` // why the profile cannot be used, with file:line
}

// printProfileList prints the profiles, marking the one s selects.
func printProfileList(rt *Runtime, s domain.Settings, profiles []config.ProfileSummary) error {
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

// profileShowDoc is `stella profile show --json`.
type profileShowDoc struct {
	SchemaVersion int          `json:"schemaVersion"`
	Profile       string       `json:"profile"`
	ConfigDir     string       `json:"configDir"`
	Settings      []settingDoc `json:"settings"`
}

// settingDoc is one effective setting; its value is already redacted.
type settingDoc struct {
	Key    string    `json:"key"`
	Value  string    `json:"value"`
	Source sourceDoc `json:"source"`
}

type sourceDoc struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

func printProfile(rt *Runtime, s domain.Settings) error {
	if rt.globals.JSON {
		doc := profileShowDoc{SchemaVersion: schemaVersion, Profile: s.Profile, ConfigDir: s.ConfigDir}
		for _, e := range s.Effective {
			doc.Settings = append(doc.Settings, settingDoc{Key: e.Key, Value: e.Value,
				Source: sourceDoc{Kind: string(e.Source.Kind), Detail: e.Source.Detail}})
		}
		return rt.emit(doc)
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

// profileUseDoc is `stella profile use --json`.
type profileUseDoc struct {
	SchemaVersion int    `json:"schemaVersion"`
	Active        string `json:"active"`
	ConfigFile    string `json:"configFile"`
}

// printProfileUse says which profile is now active, recorded in path, and
// what still wins over it for this command line or this shell.
func printProfileUse(rt *Runtime, name, path string) error {
	if rt.globals.JSON {
		return rt.emit(profileUseDoc{SchemaVersion: schemaVersion, Active: name, ConfigFile: path})
	}
	fmt.Fprintf(rt.Out(), "Active profile: %s (recorded in %s)\n", name, path)
	if v := rt.globals.Profile; v != "" && v != name {
		fmt.Fprintf(rt.Err(), "note: --profile %s still wins for this command line.\n", v)
	} else if v, ok := os.LookupEnv("STELLA_PROFILE"); ok && v != "" && v != name {
		fmt.Fprintf(rt.Err(), "note: STELLA_PROFILE=%s is set and wins over the active profile; unset it to use %s.\n", domain.Printable(v, 64), name)
	}
	return nil
}
