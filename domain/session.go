package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// SessionKey identifies a session: one per profile and Authority/client
// pair, so a token is never sent to another Authority or used for another
// client (SPEC §5).
type SessionKey struct {
	Profile  string
	Issuer   string
	ClientID string
}

// ID is a stable, filename- and keychain-safe identifier of the key: the
// profile name (sanitised) and a hash of the whole key.
func (k SessionKey) ID() string {
	sum := sha256.Sum256([]byte(k.Profile + "\x00" + k.Issuer + "\x00" + k.ClientID))
	var b strings.Builder
	for _, r := range k.Profile {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String() + "-" + hex.EncodeToString(sum[:8])
}

func (k SessionKey) String() string {
	return fmt.Sprintf("%s (%s at %s)", k.Profile, k.ClientID, k.Issuer)
}

// Identity is who a session belongs to, in the Authority's words (ID-token
// or userinfo claims): every member prints sanitised.
type Identity struct {
	Subject Untrusted `json:"subject,omitempty"`
	Name    Untrusted `json:"name,omitempty"`
	Tenant  Untrusted `json:"tenant,omitempty"`
	Email   Untrusted `json:"email,omitempty"`
}

// DisplayName is what to call the identity: its name (or
// preferred_username, see IdentityFromClaims), then its email, and only
// then the subject, which at many Authorities is an opaque identifier
// (Dex's is a base64 blob).
func (id Identity) DisplayName() Untrusted {
	switch {
	case id.Name != "":
		return id.Name
	case id.Email != "":
		return id.Email
	}
	return id.Subject
}

// SenderConstraint is what a token is bound to (SPEC §3.9).
type SenderConstraint struct {
	Mode    AuthMode `json:"mode"`
	JKT     string   `json:"jkt,omitempty"`     // RFC 7638 thumbprint of the DPoP key
	X5tS256 string   `json:"x5tS256,omitempty"` // RFC 8705 certificate thumbprint
}

func (c SenderConstraint) String() string {
	switch c.Mode {
	case AuthModeDPoP:
		return "DPoP (jkt " + c.JKT + ")"
	case AuthModeMTLS:
		return "mTLS (x5t#S256 " + c.X5tS256 + ")"
	}
	return "bearer"
}

// Grant names, as the session records how it was obtained.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantRefreshToken      = "refresh_token"
)

// Session is a signed-in state for one SessionKey.
type Session struct {
	Key        SessionKey
	Grant      string // how the session was first obtained
	Access     Token
	Refresh    Secret // empty when the server issued none
	IDToken    Secret
	Identity   Identity
	Constraint SenderConstraint
	DPoPKey    Secret // private key material, empty unless Constraint.Mode is dpop
	Created    time.Time
	Claims     map[string]any // access-token (JWT) claims as received, for whoami offline
	Nonces     []DPoPNonce    // the latest DPoP-Nonce of the Authority and of each backend (SPEC §5)
}

// Validate checks the invariants every stored or handed-out session holds.
func (s Session) Validate() error {
	switch {
	case s.Key.Issuer == "" || s.Key.ClientID == "" || s.Key.Profile == "":
		return E(KindUnexpected, "session has an incomplete key", "")
	case s.Access.Value.IsZero():
		return ESignIn(KindProtocol, "session has no access token", SignInHint{"Sign in again with ", " --force", "."})
	case s.Constraint.Mode == AuthModeDPoP && s.DPoPKey.IsZero():
		return ESignIn(KindStorage, "DPoP session has lost its key", SignInHint{"Sign in again with ", " --force", "."})
	}
	return nil
}

// Refreshable reports whether the session can renew itself without the
// user: with a refresh token, or by repeating a client-credentials grant.
func (s Session) Refreshable(hasClientSecret bool) bool {
	return !s.Refresh.IsZero() || (s.Grant == GrantClientCredentials && hasClientSecret)
}

// Usable reports whether the session can produce a token at now (SPEC §3.3).
func (s Session) Usable(now time.Time, hasClientSecret bool) bool {
	return !s.Access.Expired(now) || s.Refreshable(hasClientSecret)
}

// WithGrant returns the session updated by a renewal. The refresh token is
// kept when the server sent none (RFC 6749 §6), and the ID token likewise.
func (s Session) WithGrant(g Grant) Session {
	s.Access = g.Access
	if !g.Refresh.IsZero() {
		s.Refresh = g.Refresh
	}
	if !g.IDToken.IsZero() {
		s.IDToken = g.IDToken
	}
	if g.Identity != (Identity{}) {
		s.Identity = g.Identity
	}
	if g.Claims != nil {
		s.Claims = g.Claims
	}
	return s
}

// Grant is what a token endpoint answered, already checked by the
// authentication adapter.
type Grant struct {
	Access   Token
	Refresh  Secret
	IDToken  Secret
	Identity Identity       // from a verified ID token, userinfo, or the access token's claims
	Claims   map[string]any // access-token claims when it is a JWT
}
