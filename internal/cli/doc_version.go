package cli

import (
	"fmt"

	"github.com/stellaops/stella/domain"
)

// versionDoc is `stella version --json`.
type versionDoc struct {
	SchemaVersion int    `json:"schemaVersion"`
	Version       string `json:"version"`
	Commit        string `json:"commit,omitempty"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
}

func printVersion(rt *Runtime, b domain.BuildInfo) error {
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
