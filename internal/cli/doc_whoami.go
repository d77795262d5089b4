package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// whoamiDoc is `stella auth whoami --json`.
type whoamiDoc struct {
	SchemaVersion int              `json:"schemaVersion"`
	Subject       domain.Untrusted `json:"subject"`
	Name          domain.Untrusted `json:"name,omitempty"`
	Email         domain.Untrusted `json:"email,omitempty"`
	Tenant        domain.Untrusted `json:"tenant,omitempty"`
	ClientID      string           `json:"clientId"`
	Scopes        []string         `json:"scopes"`
	Audience      []string         `json:"audience,omitempty"`
	IssuedAt      *time.Time       `json:"issuedAt,omitempty"`
	ExpiresAt     *time.Time       `json:"expiresAt,omitempty"`
	Binding       bindingDoc       `json:"binding"`
	Cnf           map[string]any   `json:"cnf,omitempty"`
	Source        string           `json:"source"`
	Note          string           `json:"note,omitempty"`
	Claims        map[string]any   `json:"claims,omitempty"`
	IDTokenClaims map[string]any   `json:"idTokenClaims,omitempty"`
	UserInfo      map[string]any   `json:"userinfo,omitempty"`
}

func printWhoami(rt *Runtime, w app.WhoamiOutput) error {
	cnf, _ := w.Claims["cnf"].(map[string]any)
	if rt.globals.JSON {
		return rt.emit(whoamiDoc{
			SchemaVersion: schemaVersion, Subject: w.Identity.Subject, Name: w.Identity.Name, Email: w.Identity.Email,
			Tenant: w.Identity.Tenant, ClientID: w.ClientID, Scopes: scopesOrEmpty(w.Scopes), Audience: w.Audience,
			IssuedAt: timePtr(w.IssuedAt), ExpiresAt: timePtr(w.Expiry), Binding: binding(w.Constraint), Cnf: cnf,
			Source: w.Source, Note: w.Note, Claims: w.Claims, IDTokenClaims: w.IDClaims, UserInfo: w.UserInfo,
		})
	}
	if w.Note != "" {
		fmt.Fprintf(rt.Err(), "note: %s\n", w.Note)
	}
	out := rt.Out()
	fmt.Fprintf(out, "Subject:   %s\n", dash(w.Identity.Subject.String()))
	if w.Identity.Name != "" {
		fmt.Fprintf(out, "Name:      %s\n", w.Identity.Name)
	}
	if w.Identity.Email != "" {
		fmt.Fprintf(out, "Email:     %s\n", w.Identity.Email)
	}
	fmt.Fprintf(out, "Tenant:    %s\n", dash(w.Identity.Tenant.String()))
	fmt.Fprintf(out, "Client:    %s\n", w.ClientID)
	fmt.Fprintf(out, "Scopes:    %s\n", dash(w.Scopes.String()))
	fmt.Fprintf(out, "Audience:  %s\n", dash(strings.Join(w.Audience, ", ")))
	if !w.IssuedAt.IsZero() {
		fmt.Fprintf(out, "Issued:    %s\n", w.IssuedAt.Local().Format(time.RFC3339))
	}
	if !w.Expiry.IsZero() {
		fmt.Fprintf(out, "Expires:   %s (%s)\n", w.Expiry.Local().Format(time.RFC3339), app.ExpiryWords(time.Now(), w.Expiry))
	}
	fmt.Fprintf(out, "Binding:   %s\n", w.Constraint)
	fmt.Fprintf(out, "Source:    %s\n", w.Source)
	if len(w.Claims) > 0 {
		fmt.Fprintln(out, "Claims:")
		keys := make([]string, 0, len(w.Claims))
		for k := range w.Claims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, _ := json.Marshal(w.Claims[k])
			fmt.Fprintf(out, "  %-10s %s\n", k, b)
		}
	}
	return nil
}
