package cli

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
	return printVersion(rt, rt.build)
}
