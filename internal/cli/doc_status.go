package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
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

// writeSession is one session in words, for `auth status`.
func writeSession(w io.Writer, st app.SessionStatus, store ports.StoreInfo, now time.Time, mark string) {
	fmt.Fprintf(w, "Profile:     %s%s\n", st.Key.Profile, mark)
	fmt.Fprintf(w, "Authority:   %s\n", st.Key.Issuer)
	fmt.Fprintf(w, "Client:      %s\n", st.Key.ClientID)
	if st.Error != nil {
		fmt.Fprintf(w, "Error:       %s\n", domain.Printable(st.Error.Error(), 300))
		return
	}
	fmt.Fprintf(w, "Signed in:   %s\n", who(st.Identity))
	if st.Identity.Tenant != "" {
		fmt.Fprintf(w, "Tenant:      %s\n", st.Identity.Tenant)
	}
	fmt.Fprintf(w, "Scopes:      %s\n", dash(st.Scopes.String()))
	fmt.Fprintf(w, "Token:       %s, %s\n", st.TokenType, expiryLine(st))
	fmt.Fprintf(w, "Refresh:     %s\n", yesNo(st.HasRefresh, "refresh token held", "no refresh token"))
	fmt.Fprintf(w, "Binding:     %s\n", st.Constraint)
	fmt.Fprintf(w, "Storage:     %s\n", storeLine(store))
	if line := keyCacheLine(st.KeyCache, now); line != "" {
		fmt.Fprintf(w, "Key cache:   %s\n", line)
	}
}

func expiryLine(st app.SessionStatus) string {
	line := st.ExpiryWords
	if !st.Expiry.IsZero() {
		line += " (" + st.Expiry.Local().Format("2006-01-02 15:04:05 MST") + ")"
	}
	if st.Expired {
		if st.Usable {
			line += " — refresh token available"
		} else {
			line += " — sign in again"
		}
	}
	return line
}

// keyCacheLine is the key cache in words, for `auth status`.
func keyCacheLine(st ports.KeyCacheStatus, now time.Time) string {
	until := ""
	if !st.Until.IsZero() {
		until = " until " + st.Until.Local().Format("15:04:05") + " (" + strings.TrimPrefix(app.ExpiryWords(now, st.Until), "expires ") + ")"
	}
	switch st.State {
	case ports.KeyCacheUsed:
		return "in use: the key came from the kernel keyring, kept" + until
	case ports.KeyCacheSaved:
		return "key kept in the kernel keyring" + until
	case ports.KeyCacheOff:
		return "off (KeyCacheTTL is 0)"
	}
	// Unavailable (the kernel refuses keyrings): said at -v only, so
	// status reads exactly as without a key cache.
	return ""
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

// sharedCacheDoc is the shared fleet cache (TokenStorage: redis) in
// `auth status --json`.
type sharedCacheDoc struct {
	Location        string `json:"location"` // the URL without its password
	Mode            string `json:"mode"`     // standalone, sentinel, cluster
	Reachable       bool   `json:"reachable"`
	Problem         string `json:"problem,omitempty"`
	Entry           bool   `json:"entry"` // this client's entry exists
	EntryError      string `json:"entryError,omitempty"`
	LockHolder      string `json:"lockHolder,omitempty"`
	Bypassed        string `json:"bypassed,omitempty"`
	EntryAgeSeconds int64  `json:"entryAgeSeconds,omitempty"`
	EntryTTLSeconds int64  `json:"entryTtlSeconds,omitempty"`
}

func sharedDoc(st *ports.SharedCacheState) *sharedCacheDoc {
	if st == nil {
		return nil
	}
	return &sharedCacheDoc{Location: st.Location, Mode: st.Mode, Reachable: st.Reachable, Problem: st.Problem, Entry: st.Entry,
		EntryError: st.EntryError, LockHolder: st.LockHolder, Bypassed: st.Bypassed,
		EntryAgeSeconds: int64(st.EntryAge.Seconds()), EntryTTLSeconds: int64(st.EntryTTL.Seconds())}
}

// writeShared prints the shared cache after the session: where it is,
// whether it answers, this client's entry and who holds its lock.
func writeShared(w io.Writer, st *ports.SharedCacheState) {
	if st == nil {
		return
	}
	fmt.Fprintf(w, "\nShared cache: %s (%s)\n", st.Location, st.Mode)
	if !st.Reachable {
		fmt.Fprintf(w, "  Reachable:  no — %s\n", st.Problem)
	} else {
		fmt.Fprintln(w, "  Reachable:  yes")
	}
	switch {
	case st.EntryError != "":
		fmt.Fprintf(w, "  Entry:      present but does not open (%s); the next job replaces it\n", st.EntryError)
	case st.Entry:
		fmt.Fprintf(w, "  Entry:      token issued %s ago, shared for %s more\n", app.Words(st.EntryAge), app.Words(st.EntryTTL))
	case st.Reachable:
		fmt.Fprintln(w, "  Entry:      none (the next job asks the Authority and shares its token)")
	}
	if st.LockHolder != "" {
		fmt.Fprintf(w, "  Lock:       held by %s (getting a new token)\n", st.LockHolder)
	} else if st.Reachable {
		fmt.Fprintln(w, "  Lock:       free")
	}
	if st.Bypassed != "" {
		fmt.Fprintf(w, "  This run:   went without it (%s)\n", st.Bypassed)
	}
}
