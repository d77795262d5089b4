package cli

import "fmt"

// VersionCmd is `stella version`.
type VersionCmd struct{}

// Help is shown by `stella version --help`.
func (VersionCmd) Help() string {
	return `Prints the version, commit and platform of this build.

Example:
  stella version --json`
}

// Run prints the version; it reads no configuration.
func (c *VersionCmd) Run(rt *Runtime) error {
	b := rt.build
	if rt.globals.JSON {
		return rt.emit(versionDoc{SchemaVersion: schemaVersion, Version: b.Version, Commit: b.Commit, OS: b.GOOS, Arch: b.GOARCH})
	}
	_, err := fmt.Fprintf(rt.Out(), "stella %s (%s/%s)%s\n", b.Version, b.GOOS, b.GOARCH, commitSuffix(b.Commit))
	return err
}

func commitSuffix(c string) string {
	if c == "" {
		return ""
	}
	return " commit " + c
}
