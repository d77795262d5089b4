package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// schemaVersion versions every --json document; fields are documented in
// docs/json.md and only ever added within a version.
const schemaVersion = 1

// document encodes one --json document: doc (a struct whose first field
// is schemaVersion), with an `error` member added after its own fields
// when the command failed, or {schemaVersion, error} when there is no doc.
// Indented, one trailing newline.
func document(doc any, e *errorBody) ([]byte, error) {
	if doc == nil {
		doc = struct {
			SchemaVersion int `json:"schemaVersion"`
		}{schemaVersion}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if e != nil {
		if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
			return nil, fmt.Errorf("a --json document must be an object, got %T", doc)
		}
		eb, err := json.Marshal(struct {
			Error *errorBody `json:"error"`
		}{e})
		if err != nil {
			return nil, err
		}
		sep := ","
		if len(b) == 2 {
			sep = ""
		}
		b = append(append(b[:len(b)-1], sep...), eb[1:]...)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

type errorBody struct {
	Kind     string `json:"kind"`
	ExitCode int    `json:"exitCode"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

type versionDoc struct {
	SchemaVersion int    `json:"schemaVersion"`
	Version       string `json:"version"`
	Commit        string `json:"commit,omitempty"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
}

type profileEntry struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Authority string `json:"authority,omitempty"`
	ClientID  string `json:"clientId,omitempty"`
	Backend   string `json:"backend,omitempty"`
	Active    bool   `json:"active"`
	Broken    string `json:"broken,omitempty"` // why the profile cannot be used, with file:line
}

type profileListDoc struct {
	SchemaVersion int            `json:"schemaVersion"`
	Profiles      []profileEntry `json:"profiles"`
}

type profileShowDoc struct {
	SchemaVersion int              `json:"schemaVersion"`
	Profile       string           `json:"profile"`
	ConfigDir     string           `json:"configDir"`
	Settings      []domain.Setting `json:"settings"`
}

// sessionDoc is one session in status, login and whoami documents.
type sessionDoc struct {
	Profile     string          `json:"profile"`
	Authority   string          `json:"authority"`
	ClientID    string          `json:"clientId"`
	Subject     string          `json:"subject,omitempty"`
	Name        string          `json:"name,omitempty"`
	Tenant      string          `json:"tenant,omitempty"`
	Grant       string          `json:"grant,omitempty"`
	Scopes      []string        `json:"scopes"`
	TokenType   string          `json:"tokenType,omitempty"`
	ExpiresAt   *time.Time      `json:"expiresAt,omitempty"`
	Expiry      string          `json:"expiry,omitempty"`
	Expired     bool            `json:"expired"`
	HasRefresh  bool            `json:"refreshToken"`
	Usable      bool            `json:"usable"`
	Binding     bindingDoc      `json:"binding"`
	Error       string          `json:"error,omitempty"`
	Storage     ports.StoreInfo `json:"storage"`
	KeyCache    *keyCacheDoc    `json:"keyCache,omitempty"`
	ProfileFile string          `json:"-"`
}

// keyCacheDoc is what the kernel key cache did for a session's key.
type keyCacheDoc struct {
	State  string     `json:"state"`
	Until  *time.Time `json:"until,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

func keyCache(st ports.KeyCacheStatus) *keyCacheDoc {
	if st.State == "" {
		return nil
	}
	return &keyCacheDoc{State: string(st.State), Until: timePtr(st.Until), Detail: domain.Printable(st.Detail, 300)}
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

type bindingDoc struct {
	Mode    string `json:"mode"`
	JKT     string `json:"jkt,omitempty"`
	X5tS256 string `json:"x5tS256,omitempty"`
}

func binding(c domain.SenderConstraint) bindingDoc {
	mode := string(c.Mode)
	if mode == "" {
		mode = string(domain.AuthModeBearer)
	}
	return bindingDoc{Mode: mode, JKT: c.JKT, X5tS256: c.X5tS256}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func scopesOrEmpty(s domain.Scopes) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type statusDoc struct {
	SchemaVersion int             `json:"schemaVersion"`
	SignedIn      bool            `json:"signedIn"`
	State         string          `json:"state"`
	Ready         *readyDoc       `json:"ready,omitempty"`
	Storage       ports.StoreInfo `json:"storage"`
	Sessions      []sessionDoc    `json:"sessions"`
	SharedCache   *sharedCacheDoc `json:"sharedCache,omitempty"`
	// PendingRevocations lists, with --all, tokens logout could not revoke
	// yet (SPEC §3.2).
	PendingRevocations []pendingDoc `json:"pendingRevocations,omitempty"`
}

type pendingDoc struct {
	Profile   string    `json:"profile"`
	Authority string    `json:"authority"`
	ClientID  string    `json:"clientId"`
	Tokens    []string  `json:"tokens"`
	Since     time.Time `json:"since"`
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

func statusSessionDoc(st app.SessionStatus, store ports.StoreInfo) sessionDoc {
	d := sessionDoc{
		Profile: st.Key.Profile, Authority: st.Key.Issuer, ClientID: st.Key.ClientID, Subject: st.Identity.Subject,
		Name: st.Identity.Name, Tenant: st.Identity.Tenant, Grant: st.Grant, Scopes: scopesOrEmpty(st.Scopes),
		TokenType: st.TokenType, ExpiresAt: timePtr(st.Expiry), Expiry: st.ExpiryWords, Expired: st.Expired,
		HasRefresh: st.HasRefresh, Usable: st.Usable, Binding: binding(st.Constraint), Storage: store,
		KeyCache: keyCache(st.KeyCache),
	}
	if st.Error != nil {
		d.Error = domain.Printable(st.Error.Error(), 500)
	}
	return d
}

func printStatus(rt *Runtime, s domain.Settings, res app.StatusOutput, statusErr error) error {
	if rt.globals.JSON {
		doc := statusDoc{SchemaVersion: schemaVersion, State: string(res.State), Storage: res.Store, Sessions: []sessionDoc{}}
		for _, st := range res.Sessions {
			doc.Sessions = append(doc.Sessions, statusSessionDoc(st, res.Store))
			doc.SignedIn = doc.SignedIn || st.Usable
		}
		doc.SharedCache = sharedDoc(res.Shared)
		for _, p := range res.Pending {
			doc.PendingRevocations = append(doc.PendingRevocations, pendingDoc{Profile: p.Profile, Authority: p.Issuer,
				ClientID: p.ClientID, Tokens: p.Tokens, Since: p.Since})
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
	for i, st := range res.Sessions {
		if i > 0 {
			fmt.Fprintln(rt.Out())
		}
		writeSession(rt.Out(), st, res.Store, rt.now(), activeMark(s, st.Key.Profile))
	}
	if len(res.Sessions) == 0 && statusErr == nil {
		fmt.Fprintln(rt.Out(), "No sessions stored.")
	}
	for i, p := range res.Pending {
		if i == 0 && len(res.Sessions) > 0 {
			fmt.Fprintln(rt.Out())
		}
		fmt.Fprintf(rt.Out(), "Pending revocation: %s of profile %s (client %s at %s), since %s; the next command that reaches that Authority retries it.\n",
			strings.ReplaceAll(strings.Join(p.Tokens, " and "), "_", " "), p.Profile, p.ClientID, p.Issuer, p.Since.Local().Format("2006-01-02 15:04:05 MST"))
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

func who(id domain.Identity) string {
	name := id.DisplayName()
	switch {
	case name != "" && id.Subject != "" && name != id.Subject:
		return name + " (" + id.Subject + ")"
	case name != "":
		return name
	}
	return "(unknown subject)"
}

func storeLine(i ports.StoreInfo) string {
	line := i.Label
	if i.Location != "" {
		line += " (" + i.Location + ")"
	}
	if i.Reason != "" {
		line += " — " + i.Reason
	}
	return line
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

type loginDoc struct {
	SchemaVersion   int        `json:"schemaVersion"`
	Flow            string     `json:"flow"`
	AlreadySignedIn bool       `json:"alreadySignedIn"`
	Session         sessionDoc `json:"session"`
}

func printLogin(rt *Runtime, s domain.Settings, res app.LoginOutput) error {
	now := rt.now()
	st := app.SessionStatus{
		Key: res.Session.Key, Identity: res.Session.Identity, Grant: res.Session.Grant, Scopes: res.Session.Access.Scopes,
		TokenType: res.Session.Access.Type, Expiry: res.Session.Access.Expiry,
		ExpiryWords: app.ExpiryWords(now, res.Session.Access.Expiry), HasRefresh: !res.Session.Refresh.IsZero(),
		Usable: true, Constraint: res.Session.Constraint,
	}
	if rt.globals.JSON {
		return rt.emit(loginDoc{SchemaVersion: schemaVersion, Flow: res.Flow.String(),
			AlreadySignedIn: res.AlreadySignedIn, Session: statusSessionDoc(st, res.Store)})
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

type logoutDoc struct {
	SchemaVersion int            `json:"schemaVersion"`
	SignedOut     []logoutResult `json:"signedOut"`
}

type logoutResult struct {
	Profile   string   `json:"profile"`
	Authority string   `json:"authority"`
	ClientID  string   `json:"clientId"`
	Revoked   []string `json:"revoked"`
	Pending   []string `json:"pendingRevocation,omitempty"` // kept sealed for a later command to revoke
	Warnings  []string `json:"warnings,omitempty"`
}

func printLogout(rt *Runtime, res app.LogoutOutput) error {
	if rt.globals.JSON {
		doc := logoutDoc{SchemaVersion: schemaVersion, SignedOut: []logoutResult{}}
		for _, r := range res.Results {
			revoked := r.Revoked
			if revoked == nil {
				revoked = []string{}
			}
			doc.SignedOut = append(doc.SignedOut, logoutResult{Profile: r.Key.Profile, Authority: r.Key.Issuer,
				ClientID: r.Key.ClientID, Revoked: revoked, Pending: r.Pending, Warnings: r.Warnings})
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
			revoked = "revoked " + strings.ReplaceAll(strings.Join(r.Revoked, " and "), "_", " ")
		}
		if len(r.Pending) > 0 {
			if len(r.Revoked) > 0 {
				revoked += ", "
			} else {
				revoked = ""
			}
			revoked += "revocation of " + strings.ReplaceAll(strings.Join(r.Pending, " and "), "_", " ") + " pending (kept encrypted; later commands that reach the Authority retry it)"
		}
		fmt.Fprintf(rt.Out(), "Signed out of %s as client %s (profile %s): %s, session deleted.\n",
			r.Key.Issuer, r.Key.ClientID, r.Key.Profile, revoked)
	}
	return nil
}

type whoamiDoc struct {
	SchemaVersion int            `json:"schemaVersion"`
	Subject       string         `json:"subject"`
	Name          string         `json:"name,omitempty"`
	Email         string         `json:"email,omitempty"`
	Tenant        string         `json:"tenant,omitempty"`
	ClientID      string         `json:"clientId"`
	Scopes        []string       `json:"scopes"`
	Audience      []string       `json:"audience,omitempty"`
	IssuedAt      *time.Time     `json:"issuedAt,omitempty"`
	ExpiresAt     *time.Time     `json:"expiresAt,omitempty"`
	Binding       bindingDoc     `json:"binding"`
	Cnf           map[string]any `json:"cnf,omitempty"`
	Source        string         `json:"source"`
	Note          string         `json:"note,omitempty"`
	Claims        map[string]any `json:"claims,omitempty"`
	IDTokenClaims map[string]any `json:"idTokenClaims,omitempty"`
	UserInfo      map[string]any `json:"userinfo,omitempty"`
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
	fmt.Fprintf(out, "Subject:   %s\n", dash(w.Identity.Subject))
	if w.Identity.Name != "" {
		fmt.Fprintf(out, "Name:      %s\n", w.Identity.Name)
	}
	if w.Identity.Email != "" {
		fmt.Fprintf(out, "Email:     %s\n", w.Identity.Email)
	}
	fmt.Fprintf(out, "Tenant:    %s\n", dash(w.Identity.Tenant))
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
