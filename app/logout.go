package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// LogoutInput says what to sign out of.
type LogoutInput struct {
	Force bool // local deletion only, no network
	All   bool // every stored session
}

// LogoutResult is what happened to one session.
type LogoutResult struct {
	Key      domain.SessionKey
	Revoked  []string // "refresh_token", "access_token"
	Warnings []string
}

// LogoutOutput lists the sessions signed out of.
type LogoutOutput struct {
	Results []LogoutResult
}

// Logout revokes tokens at the Authority (RFC 7009) and deletes sessions.
// A revocation failure is a warning: local deletion always happens.
type Logout struct {
	settings  domain.Settings
	store     ports.SessionStore
	authority ports.Authority
	others    ports.ProfileAuthorities
	log       *slog.Logger
}

// NewLogout builds the use case; it does no I/O.
func NewLogout(s domain.Settings, store ports.SessionStore, authority ports.Authority, others ports.ProfileAuthorities, log *slog.Logger) *Logout {
	return &Logout{settings: s, store: store, authority: authority, others: others, log: log}
}

// Do signs out.
func (u *Logout) Do(ctx context.Context, in LogoutInput) (LogoutOutput, error) {
	keys := []domain.SessionKey{u.settings.SessionKey()}
	if in.All {
		var err error
		if keys, err = u.store.List(ctx); err != nil {
			return LogoutOutput{}, err
		}
	} else if err := u.settings.RequireAuthority(); err != nil {
		return LogoutOutput{}, err
	}
	var out LogoutOutput
	for _, key := range keys {
		res, err := u.one(ctx, key, in.Force)
		if errors.Is(err, errNoSession) {
			continue
		}
		if err != nil {
			return out, err
		}
		out.Results = append(out.Results, res)
	}
	return out, nil
}

func (u *Logout) one(ctx context.Context, key domain.SessionKey, force bool) (LogoutResult, error) {
	res := LogoutResult{Key: key}
	s, err := u.store.Load(ctx, key)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return res, errNoSession
	case err != nil && domain.KindOf(err) == domain.KindStorage:
		// An unreadable session cannot be revoked, but it must still go.
		res.Warnings = append(res.Warnings, "the stored session could not be read, so its tokens were not revoked: "+err.Error())
		force = true
	case err != nil:
		return res, err
	}
	if !force {
		authority := u.authority
		if key != u.settings.SessionKey() {
			a, err := u.others.AuthorityFor(ctx, key)
			if err != nil {
				// The session goes regardless: the user asked for every one.
				res.Warnings = append(res.Warnings, "the tokens of profile "+key.Profile+"'s session were not revoked: "+err.Error())
			}
			authority = a
		}
		if authority != nil {
			revoked, warnings := u.revoke(ctx, authority, s)
			res.Revoked, res.Warnings = revoked, append(res.Warnings, warnings...)
		}
	}
	if err := u.store.Delete(ctx, key); err != nil {
		return res, err
	}
	return res, nil
}

// revoke revokes the refresh token first: it is the long-lived one, and
// revoking it also ends the access tokens of its family at most Authorities.
func (u *Logout) revoke(ctx context.Context, authority ports.Authority, s domain.Session) (revoked, warnings []string) {
	for _, t := range []struct {
		secret domain.Secret
		hint   string
	}{{s.Refresh, "refresh_token"}, {s.Access.Value, "access_token"}} {
		if t.secret.IsZero() {
			continue
		}
		ok, err := authority.Revoke(ctx, t.secret, t.hint)
		switch {
		case err != nil:
			warnings = append(warnings, "could not revoke the "+t.hint+": "+err.Error())
		case !ok:
			warnings = append(warnings, "the Authority offers no revocation endpoint; the tokens stay valid until they expire")
			return revoked, warnings
		default:
			revoked = append(revoked, t.hint)
		}
	}
	return revoked, warnings
}
