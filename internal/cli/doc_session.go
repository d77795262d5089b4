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

// sessionDoc is one session in status and login documents.
type sessionDoc struct {
	sessionKeyDoc
	Subject    string       `json:"subject,omitempty"`
	Name       string       `json:"name,omitempty"`
	Tenant     string       `json:"tenant,omitempty"`
	Grant      string       `json:"grant,omitempty"`
	Scopes     []string     `json:"scopes"`
	TokenType  string       `json:"tokenType,omitempty"`
	ExpiresAt  *time.Time   `json:"expiresAt,omitempty"`
	Expiry     string       `json:"expiry,omitempty"`
	Expired    bool         `json:"expired"`
	HasRefresh bool         `json:"refreshToken"`
	Usable     bool         `json:"usable"`
	Binding    bindingDoc   `json:"binding"`
	Error      string       `json:"error,omitempty"`
	Storage    storageDoc   `json:"storage"`
	KeyCache   *keyCacheDoc `json:"keyCache,omitempty"`
}

func session(st app.SessionStatus, store ports.StoreInfo) sessionDoc {
	d := sessionDoc{
		sessionKeyDoc: sessionKey(st.Key), Subject: st.Identity.Subject,
		Name: st.Identity.Name, Tenant: st.Identity.Tenant, Grant: st.Grant, Scopes: scopesOrEmpty(st.Scopes),
		TokenType: st.TokenType, ExpiresAt: timePtr(st.Expiry), Expiry: st.ExpiryWords, Expired: st.Expired,
		HasRefresh: st.HasRefresh, Usable: st.Usable, Binding: binding(st.Constraint), Storage: storage(store),
		KeyCache: keyCache(st.KeyCache),
	}
	if st.Error != nil {
		d.Error = domain.Printable(st.Error.Error(), 500)
	}
	return d
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
