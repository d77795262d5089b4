package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Each command's --json document type and its printer (the terminal text
// beside it) live in doc_<command>.go; this file holds the envelope and the
// parts several documents share. The JSON shapes are declared only in this
// package: the app's and ports' types are converted, so a field renamed
// there cannot change the public schema (docs/json.md, docs/schema).

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

// warn prints a use case's warnings on stderr: before its result, and
// also when it failed.
func warn(rt *Runtime, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(rt.Err(), "warning: %s\n", w)
	}
}

type errorBody struct {
	Kind     string `json:"kind"`
	ExitCode int    `json:"exitCode"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

// sessionKeyDoc names a session: embedded first in the documents about
// one (status, login, logout, pending revocations), so its members come
// first there.
type sessionKeyDoc struct {
	Profile   string `json:"profile"`
	Authority string `json:"authority"`
	ClientID  string `json:"clientId"`
}

func sessionKey(k domain.SessionKey) sessionKeyDoc {
	return sessionKeyDoc{Profile: k.Profile, Authority: k.Issuer, ClientID: k.ClientID}
}

// storageDoc is the session store in status and login documents.
type storageDoc struct {
	Kind     string `json:"kind"`
	Label    string `json:"label"`
	Location string `json:"location,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func storage(i ports.StoreInfo) storageDoc {
	return storageDoc{Kind: string(i.Kind), Label: i.Label, Location: i.Location, Reason: i.Reason}
}

// storeLine is the session store in words.
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

// timePtr is t in UTC, or nil (the member left out) when it is unknown.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// scopesOrEmpty keeps `scopes` an array: scripts index it.
func scopesOrEmpty(s domain.Scopes) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// who is a signed-in identity in words.
func who(id domain.Identity) string {
	name := id.DisplayName()
	switch {
	case name != "" && id.Subject != "" && name != id.Subject:
		return name.String() + " (" + id.Subject.String() + ")"
	case name != "":
		return name.String()
	}
	return "(unknown subject)"
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
