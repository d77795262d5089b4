package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// sessionRecordVersion is bumped when the stored shape changes; DecodeSession
// refuses versions it does not know rather than guess.
const sessionRecordVersion = 1

// sessionRecord is the stored shape of a Session. It holds revealed secrets,
// so it never leaves this file except as bytes handed to a store, which
// encrypts them (file store) or gives them to the OS keychain.
type sessionRecord struct {
	Version    int              `json:"v"`
	Profile    string           `json:"profile"`
	Issuer     string           `json:"issuer"`
	ClientID   string           `json:"clientId"`
	Grant      string           `json:"grant,omitempty"`
	Access     string           `json:"accessToken"`
	TokenType  string           `json:"tokenType"`
	IssuedAt   time.Time        `json:"issuedAt"`
	Expiry     time.Time        `json:"expiry,omitzero"`
	Scopes     Scopes           `json:"scopes,omitempty"`
	Refresh    string           `json:"refreshToken,omitempty"`
	IDToken    string           `json:"idToken,omitempty"`
	Identity   Identity         `json:"identity"`
	Constraint SenderConstraint `json:"constraint"`
	DPoPKey    string           `json:"dpopKey,omitempty"`
	Created    time.Time        `json:"created"`
	Claims     map[string]any   `json:"claims,omitempty"`
	// Nonces was added within version 1: older files have none, and an
	// older stella reading a newer file ignores them (encoding/json skips
	// unknown members), so the format version need not change.
	Nonces []DPoPNonce `json:"dpopNonces,omitempty"`
}

// EncodeSession serialises a session, secrets included, for a store. Only
// stores may call it (tools/audit enforces this): the bytes are plaintext.
func EncodeSession(s Session) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(sessionRecord{
		Version: sessionRecordVersion, Profile: s.Key.Profile, Issuer: s.Key.Issuer, ClientID: s.Key.ClientID,
		Grant: s.Grant, Access: s.Access.Value.Reveal(), TokenType: s.Access.Type, IssuedAt: s.Access.IssuedAt,
		Expiry: s.Access.Expiry, Scopes: s.Access.Scopes, Refresh: s.Refresh.Reveal(), IDToken: s.IDToken.Reveal(),
		Identity: s.Identity, Constraint: s.Constraint, DPoPKey: s.DPoPKey.Reveal(), Created: s.Created, Claims: s.Claims,
		Nonces: s.Nonces,
	})
}

// DecodeSession is the one door from storage back to a Session; it
// validates as NewSession would. Any failure is a storage error: the bytes
// decrypted but are not a session this version understands.
func DecodeSession(b []byte) (Session, error) {
	var r sessionRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Session{}, Wrap(KindStorage, err, "stored session is not readable", "Run `stella auth doctor`, then sign in again.")
	}
	if r.Version != sessionRecordVersion {
		return Session{}, ESignIn(KindStorage, fmt.Sprintf("stored session has format version %d, this stella reads %d", r.Version, sessionRecordVersion),
			SignInHint{"Upgrade stella, or sign in again with ", " --force", "."})
	}
	s := Session{
		Key:   SessionKey{Profile: r.Profile, Issuer: r.Issuer, ClientID: r.ClientID},
		Grant: r.Grant,
		Access: Token{Value: NewSecret(r.Access), Type: NormalizeTokenType(r.TokenType), IssuedAt: r.IssuedAt,
			Expiry: r.Expiry, Scopes: r.Scopes},
		Refresh: NewSecret(r.Refresh), IDToken: NewSecret(r.IDToken), Identity: r.Identity,
		Constraint: r.Constraint, DPoPKey: NewSecret(r.DPoPKey), Created: r.Created, Claims: r.Claims,
		Nonces: r.Nonces,
	}
	if err := s.Validate(); err != nil {
		return Session{}, WrapSignIn(KindStorage, err, "stored session is incomplete", SignInHint{"Sign in again with ", " --force", "."})
	}
	return s, nil
}
