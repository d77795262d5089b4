package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// WhoamiOutput is the identity and the token's claims.
type WhoamiOutput struct {
	Identity   domain.Identity
	ClientID   string
	Scopes     domain.Scopes
	Audience   []string
	IssuedAt   time.Time
	Expiry     time.Time
	Constraint domain.SenderConstraint
	// Source is "userinfo" when the Authority answered, else "cached".
	Source string
	// Note says why the cached claims were used, when they were.
	Note        string
	Claims      map[string]any // access-token claims (JWT only)
	IDClaims    map[string]any // ID-token claims, when the session has one
	UserInfo    map[string]any
	GrantedWith string
}

// Whoami shows who the session belongs to: from the userinfo endpoint when
// the Authority can be reached, else from the cached claims.
type Whoami struct {
	settings  domain.Settings
	tokens    *TokenManager
	authority ports.Authority
	log       *slog.Logger
}

// NewWhoami builds the use case; it does no I/O.
func NewWhoami(s domain.Settings, tokens *TokenManager, authority ports.Authority, log *slog.Logger) *Whoami {
	return &Whoami{settings: s, tokens: tokens, authority: authority, log: log}
}

// Do answers.
func (u *Whoami) Do(ctx context.Context) (WhoamiOutput, error) {
	var out WhoamiOutput
	cred, credErr := u.tokens.Credential(ctx)
	s, err := u.tokens.Current(ctx)
	if err != nil {
		return out, err
	}
	if s == nil {
		if credErr != nil {
			return out, credErr
		}
		return out, notSignedIn(u.settings)
	}
	out = describe(*s)
	if credErr != nil {
		switch domain.KindOf(credErr) {
		case domain.KindUnreachable, domain.KindServer:
			out.Source, out.Note = "cached", "the Authority could not be reached; showing the cached claims"
			return out, nil
		}
		return out, credErr
	}
	info, err := u.authority.UserInfo(ctx, cred)
	switch {
	case err == nil:
		if sub := domain.ClaimUntrusted(info, "sub"); s.Identity.Subject != "" && sub != s.Identity.Subject {
			return out, domain.E(domain.KindProtocol, "the userinfo subject differs from the session's subject",
				"The Authority answered for another user; sign in again with `"+u.settings.LoginCommand()+" --force`.")
		}
		out.Source, out.UserInfo = "userinfo", info
		id := domain.IdentityFromClaims(info)
		if id.Name != "" {
			out.Identity.Name = id.Name
		}
		if id.Email != "" {
			out.Identity.Email = id.Email
		}
		if id.Tenant != "" {
			out.Identity.Tenant = id.Tenant
		}
	case domain.KindOf(err) == domain.KindProtocol:
		return out, err
	default:
		out.Source, out.Note = "cached", "userinfo unavailable: "+err.Error()+"; showing the cached claims"
	}
	return out, nil
}

func describe(s domain.Session) WhoamiOutput {
	out := WhoamiOutput{
		Identity: s.Identity, ClientID: s.Key.ClientID, Scopes: s.Access.Scopes, Expiry: s.Access.Expiry,
		IssuedAt: s.Access.IssuedAt, Constraint: s.Constraint, Claims: s.Claims, GrantedWith: s.Grant,
	}
	if c := s.Claims; c != nil {
		out.Audience = domain.ClaimAudience(c)
		if t := domain.ClaimTime(c, "iat"); !t.IsZero() {
			out.IssuedAt = t
		}
		if t := domain.ClaimTime(c, "exp"); !t.IsZero() {
			out.Expiry = t
		}
		if cid := domain.ClaimString(c, "client_id"); cid != "" {
			out.ClientID = cid
		}
	}
	if !s.IDToken.IsZero() {
		// Peeking is safe here: the ID token was verified when it was received.
		out.IDClaims, _ = s.IDToken.JWTClaims()
		// The nonce tied the ID token to one sign-in; it has no use to a
		// reader and is kept out of output like the other sign-in values.
		delete(out.IDClaims, "nonce")
	}
	return out
}
