package cli

import (
	"fmt"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// tokenDoc is `stella auth token --json`. The token is in it on purpose:
// printing it is the command's job, as without --json.
type tokenDoc struct {
	SchemaVersion int        `json:"schemaVersion"`
	Token         string     `json:"token"`
	Type          string     `json:"type"`
	ExpiresAt     *time.Time `json:"expiresAt,omitempty"`
	Expiry        string     `json:"expiry,omitempty"`
	Scopes        []string   `json:"scopes"`
	Binding       bindingDoc `json:"binding"`
}

func printToken(rt *Runtime, cred domain.Credential) error {
	if cred.Access.Type == domain.TokenTypeDPoP {
		fmt.Fprintln(rt.Err(), "warning: this token is DPoP-bound; every request needs a DPoP proof (use `stella auth header` or `stella api`)")
	}
	if rt.globals.JSON {
		return rt.emit(tokenDoc{SchemaVersion: schemaVersion, Token: cred.Access.Value.Reveal(), Type: cred.Access.Type,
			ExpiresAt: timePtr(cred.Access.Expiry), Expiry: app.ExpiryWords(rt.now(), cred.Access.Expiry),
			Scopes: scopesOrEmpty(cred.Access.Scopes), Binding: binding(cred.Constraint)})
	}
	// The one place a token is printed, on purpose: stdout, nothing else.
	_, err := fmt.Fprintln(rt.Out(), cred.Access.Value.Reveal())
	return err
}
