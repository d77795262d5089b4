package cli

import (
	"fmt"

	"github.com/stellaops/stella/app"
)

// packApproveDoc is `stella pack approve --json`. Its members stand in
// the order the document has always had (it was a map, so encoded with
// its keys sorted); the schema does not fix an order, but a script
// comparing bytes would notice another.
type packApproveDoc struct {
	Approval      map[string]any `json:"approval"` // the backend's answer, as it sent it
	Gate          string         `json:"gate"`
	PlanHash      string         `json:"planHash"`
	Run           string         `json:"run"`
	SchemaVersion int            `json:"schemaVersion"`
}

// printPackApprove says which gate was approved, for which plan.
func printPackApprove(rt *Runtime, in app.PackApproveInput, res app.PackApproveOutput) error {
	if rt.globals.JSON {
		return rt.emit(packApproveDoc{SchemaVersion: schemaVersion, Run: in.RunID, Gate: in.GateID, PlanHash: in.PlanHash, Approval: res.Body})
	}
	_, err := fmt.Fprintf(rt.Out(), "Approved gate %s of run %s for plan %s.\n", in.GateID, in.RunID, in.PlanHash)
	return err
}
