package cli

import (
	"fmt"

	"github.com/stellaops/stella/app"
)

// logoutDoc is `stella auth logout --json`.
type logoutDoc struct {
	SchemaVersion int            `json:"schemaVersion"`
	SignedOut     []logoutResult `json:"signedOut"`
}

type logoutResult struct {
	sessionKeyDoc
	Revoked  []string `json:"revoked"`
	Pending  []string `json:"pendingRevocation,omitempty"` // kept sealed for a later command to revoke
	Warnings []string `json:"warnings,omitempty"`
}

func printLogout(rt *Runtime, res app.LogoutOutput) error {
	if rt.globals.JSON {
		doc := logoutDoc{SchemaVersion: schemaVersion, SignedOut: []logoutResult{}}
		for _, r := range res.Results {
			revoked := r.Revoked
			if revoked == nil {
				revoked = []string{}
			}
			doc.SignedOut = append(doc.SignedOut, logoutResult{sessionKeyDoc: sessionKey(r.Key), Revoked: revoked,
				Pending: r.Pending, Warnings: r.Warnings})
		}
		return rt.emit(doc)
	}
	if len(res.Results) == 0 {
		fmt.Fprintln(rt.Err(), "No session to sign out of.")
		return nil
	}
	for _, r := range res.Results {
		revoked := "tokens not revoked"
		if len(r.Revoked) > 0 {
			revoked = "revoked " + tokenWords(r.Revoked)
		}
		if len(r.Pending) > 0 {
			if len(r.Revoked) > 0 {
				revoked += ", "
			} else {
				revoked = ""
			}
			revoked += "revocation of " + tokenWords(r.Pending) + " pending (kept encrypted; later commands that reach the Authority retry it)"
		}
		fmt.Fprintf(rt.Out(), "Signed out of %s as client %s (profile %s): %s, session deleted.\n",
			r.Key.Issuer, r.Key.ClientID, r.Key.Profile, revoked)
	}
	return nil
}
