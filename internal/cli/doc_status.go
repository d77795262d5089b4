package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
)

// statusDoc is `stella auth status --json`.
type statusDoc struct {
	SchemaVersion int             `json:"schemaVersion"`
	SignedIn      bool            `json:"signedIn"`
	State         string          `json:"state"`
	Ready         *readyDoc       `json:"ready,omitempty"`
	Storage       storageDoc      `json:"storage"`
	Sessions      []sessionDoc    `json:"sessions"`
	SharedCache   *sharedCacheDoc `json:"sharedCache,omitempty"`
	// PendingRevocations lists, with --all, tokens logout could not revoke
	// yet (SPEC §3.2).
	PendingRevocations []pendingDoc `json:"pendingRevocations,omitempty"`
}

type pendingDoc struct {
	sessionKeyDoc
	Tokens []string  `json:"tokens"`
	Since  time.Time `json:"since"`
}

// readyDoc is status's answer for CI with no session yet: who the next
// command signs in as.
type readyDoc struct {
	ClientID     string `json:"clientId"`
	Authority    string `json:"authority"`
	SecretSource string `json:"secretSource"`
	Message      string `json:"message"`
}

func readyLine(r *app.ReadyCredentials) string {
	return "ready: client credentials for " + r.ClientID + " at " + r.Authority + "; the next command signs in"
}

// printStatus prints what `auth status` found; s marks the active profile.
func printStatus(rt *Runtime, s domain.Settings, res app.StatusOutput) error {
	if rt.globals.JSON {
		doc := statusDoc{SchemaVersion: schemaVersion, State: string(res.State), Storage: storage(res.Store), Sessions: []sessionDoc{}}
		for _, st := range res.Sessions {
			doc.Sessions = append(doc.Sessions, session(st, res.Store))
			doc.SignedIn = doc.SignedIn || st.Usable
		}
		doc.SharedCache = sharedDoc(res.Shared)
		for _, p := range res.Pending {
			doc.PendingRevocations = append(doc.PendingRevocations, pendingDoc{
				sessionKeyDoc: sessionKeyDoc{Profile: p.Profile, Authority: p.Issuer, ClientID: p.ClientID}, Tokens: p.Tokens, Since: p.Since})
		}
		if r := res.Ready; r != nil {
			doc.Ready = &readyDoc{ClientID: r.ClientID, Authority: r.Authority, SecretSource: r.SecretSource, Message: readyLine(r)}
		}
		return rt.emit(doc)
	}
	defer writeShared(rt.Out(), res.Shared)
	if r := res.Ready; r != nil {
		fmt.Fprintln(rt.Out(), readyLine(r))
		fmt.Fprintf(rt.Out(), "Secret:      %s\n", r.SecretSource)
		fmt.Fprintf(rt.Out(), "Storage:     %s\n", storeLine(res.Store))
		return nil
	}
	// No session and not ready is a failure (app.Status returns
	// login-required), which the error lines say.
	for i, st := range res.Sessions {
		if i > 0 {
			fmt.Fprintln(rt.Out())
		}
		writeSession(rt.Out(), st, res.Store, rt.now(), activeMark(s, st.Key.Profile))
	}
	for i, p := range res.Pending {
		if i == 0 && len(res.Sessions) > 0 {
			fmt.Fprintln(rt.Out())
		}
		fmt.Fprintf(rt.Out(), "Pending revocation: %s of profile %s (client %s at %s), since %s; the next command that reaches that Authority retries it.\n",
			tokenWords(p.Tokens), p.Profile, p.ClientID, p.Issuer, p.Since.Local().Format("2006-01-02 15:04:05 MST"))
	}
	return nil
}

// activeMark labels the profile `stella profile use` made active.
func activeMark(s domain.Settings, profile string) string {
	if s.ProfileSource == domain.SourceConfig && s.Profile == profile {
		return " (active)"
	}
	return ""
}

// tokenWords names tokens as revocation does ("refresh_token",
// "access_token") in words: "refresh token and access token".
func tokenWords(tokens []string) string {
	return strings.ReplaceAll(strings.Join(tokens, " and "), "_", " ")
}
