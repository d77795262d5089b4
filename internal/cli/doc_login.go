package cli

import (
	"fmt"

	"github.com/stellaops/stella/app"
)

// loginDoc is `stella auth login --json`.
type loginDoc struct {
	SchemaVersion   int        `json:"schemaVersion"`
	Flow            string     `json:"flow"`
	AlreadySignedIn bool       `json:"alreadySignedIn"`
	Session         sessionDoc `json:"session"`
}

func printLogin(rt *Runtime, res app.LoginOutput) error {
	now := rt.now()
	st := app.SessionStatus{
		Key: res.Session.Key, Identity: res.Session.Identity, Grant: res.Session.Grant, Scopes: res.Session.Access.Scopes,
		TokenType: res.Session.Access.Type, Expiry: res.Session.Access.Expiry,
		ExpiryWords: app.ExpiryWords(now, res.Session.Access.Expiry), HasRefresh: !res.Session.Refresh.IsZero(),
		Usable: true, Constraint: res.Session.Constraint,
	}
	if rt.globals.JSON {
		return rt.emit(loginDoc{SchemaVersion: schemaVersion, Flow: res.Flow.String(),
			AlreadySignedIn: res.AlreadySignedIn, Session: session(st, res.Store)})
	}
	if res.AlreadySignedIn {
		fmt.Fprintf(rt.Err(), "Already signed in; use --force to sign in again.\n")
	}
	fmt.Fprintf(rt.Out(), "Signed in to %s as %s (client %s).\n", res.Session.Key.Issuer, who(res.Session.Identity), res.Session.Key.ClientID)
	fmt.Fprintf(rt.Out(), "Scopes:  %s\n", dash(res.Session.Access.Scopes.String()))
	fmt.Fprintf(rt.Out(), "Token:   %s, %s\n", res.Session.Access.Type, st.ExpiryWords)
	fmt.Fprintf(rt.Out(), "Binding: %s\n", res.Session.Constraint)
	fmt.Fprintf(rt.Out(), "Stored:  %s\n", storeLine(res.Store))
	return nil
}
