package cli

import (
	"fmt"
	"strings"

	"github.com/stellaops/stella/app"
)

// doctorDoc is `stella auth doctor --json`.
type doctorDoc struct {
	SchemaVersion int        `json:"schemaVersion"`
	OK            bool       `json:"ok"`
	Checks        []checkDoc `json:"checks"`
}

type checkDoc struct {
	Name   string   `json:"name"`
	Status string   `json:"status"`
	Detail string   `json:"detail"`
	Fix    string   `json:"fix,omitempty"`
	Moved  []string `json:"moved,omitempty"` // files moved aside
}

// printDoctor prints the checks; doctorErr is the first failure, if any.
func printDoctor(rt *Runtime, res app.DoctorOutput, doctorErr error) error {
	if rt.globals.JSON {
		doc := doctorDoc{SchemaVersion: schemaVersion, OK: doctorErr == nil}
		for _, ch := range res.Checks {
			doc.Checks = append(doc.Checks, checkDoc{Name: ch.Name, Status: string(ch.Status), Detail: ch.Detail, Fix: ch.Fix, Moved: ch.Moved})
		}
		return rt.emit(doc)
	}
	width := 0
	for _, ch := range res.Checks {
		width = max(width, len(ch.Name))
	}
	for _, ch := range res.Checks {
		fmt.Fprintf(rt.Out(), "%-4s  %-*s  %s\n", strings.ToUpper(string(ch.Status)), width, ch.Name, ch.Detail)
		if ch.Status == app.CheckFail && ch.Fix != "" {
			fmt.Fprintf(rt.Out(), "      %-*s  fix: %s\n", width, "", ch.Fix)
		}
	}
	return nil
}
