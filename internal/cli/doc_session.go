package cli

import (
	"time"

	"github.com/stellaops/stella/app"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// sessionDoc is one session in status and login documents; status's text
// for it is writeSession (doc_status.go).
type sessionDoc struct {
	sessionKeyDoc
	Subject    domain.Untrusted `json:"subject,omitempty"`
	Name       domain.Untrusted `json:"name,omitempty"`
	Tenant     domain.Untrusted `json:"tenant,omitempty"`
	Grant      string           `json:"grant,omitempty"`
	Scopes     []string         `json:"scopes"`
	TokenType  string           `json:"tokenType,omitempty"`
	ExpiresAt  *time.Time       `json:"expiresAt,omitempty"`
	Expiry     string           `json:"expiry,omitempty"`
	Expired    bool             `json:"expired"`
	HasRefresh bool             `json:"refreshToken"`
	Usable     bool             `json:"usable"`
	Binding    bindingDoc       `json:"binding"`
	Error      string           `json:"error,omitempty"`
	Storage    storageDoc       `json:"storage"`
	KeyCache   *keyCacheDoc     `json:"keyCache,omitempty"`
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
