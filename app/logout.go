package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"

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
	Pending  []string // not revoked now, kept sealed for a later command to revoke
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
	clock     ports.Clock
	log       *slog.Logger
}

// NewLogout builds the use case; it does no I/O.
func NewLogout(s domain.Settings, store ports.SessionStore, authority ports.Authority, others ports.ProfileAuthorities,
	clock ports.Clock, log *slog.Logger) *Logout {
	return &Logout{settings: s, store: store, authority: authority, others: others, clock: clock, log: log}
}

func (u *Logout) pending() pendingRevocations {
	return pendingRevocations{store: u.store, clock: u.clock, log: u.log}
}

// Do signs out. Tokens that cannot be revoked now (the Authority is down)
// are kept as a pending revocation, never abandoned; --force keeps none.
func (u *Logout) Do(ctx context.Context, in LogoutInput) (LogoutOutput, error) {
	if !in.All {
		if err := u.settings.RequireAuthority(); err != nil {
			return LogoutOutput{}, err
		}
	}
	// The pending revocations to settle are those stored before this
	// logout: one it keeps now has just failed, and is not retried at once.
	stored, err := u.store.List(ctx)
	switch {
	case err != nil && in.All:
		return LogoutOutput{}, err
	case err != nil:
		// Only the pending revocations need the list: signing out of this
		// session goes on without it (a shared cache that does not answer).
		u.log.Debug("stored sessions not listed; pending revocations not settled", "error", err)
		stored = nil
	}
	keys := []domain.SessionKey{u.settings.SessionKey()}
	if in.All {
		keys = stored
	}
	var out LogoutOutput
	down := map[domain.SessionKey]bool{} // Authorities and clients whose revocation failed just now
	for _, key := range keys {
		if key.IsPendingRevocation() {
			continue // after the sessions, below
		}
		res, err := u.one(ctx, key, in.Force)
		if errors.Is(err, errNoSession) {
			continue
		}
		if err != nil {
			return out, err
		}
		if len(res.Pending) > 0 {
			down[domain.SessionKey{Issuer: key.Issuer, ClientID: key.ClientID}] = true
		}
		out.Results = append(out.Results, res)
	}
	if err := u.settle(ctx, in, stored, down); err != nil {
		return out, err
	}
	return out, nil
}

// settle deals with the pending revocations this logout covers: with
// --force they are deleted (local only: nothing is kept); otherwise each
// Authority reached is asked again.
func (u *Logout) settle(ctx context.Context, in LogoutInput, keys []domain.SessionKey, down map[domain.SessionKey]bool) error {
	var err error
	cur := u.settings.SessionKey()
	retried := map[domain.SessionKey]bool{}
	for _, key := range keys {
		if !key.IsPendingRevocation() {
			continue
		}
		mine := key.Issuer == cur.Issuer && key.ClientID == cur.ClientID && key.PendingProfile() == cur.Profile
		if !in.All && !mine {
			continue
		}
		if in.Force {
			if err := u.store.Delete(ctx, key); err != nil {
				return err
			}
			continue
		}
		target := domain.SessionKey{Profile: key.PendingProfile(), Issuer: key.Issuer, ClientID: key.ClientID}
		if retried[target] || down[domain.SessionKey{Issuer: key.Issuer, ClientID: key.ClientID}] {
			continue
		}
		retried[target] = true
		authority := u.authority
		if target.Issuer != cur.Issuer || target.ClientID != cur.ClientID {
			if authority, err = u.others.AuthorityFor(ctx, target); err != nil {
				u.log.Debug("pending revocation not retried", "entry", key.ID(), "error", err)
				continue
			}
		}
		u.pending().retry(ctx, authority, target.Issuer, target.ClientID)
	}
	return nil
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
			r := u.revoke(ctx, authority, s)
			res.Revoked, res.Warnings = r.revoked, append(res.Warnings, r.warnings...)
			if len(r.failed) > 0 {
				// Never abandon a live token (SPEC §3.2): keep what could
				// not be revoked, sealed, for a later command to revoke.
				if err := u.pending().keep(ctx, s, r.failed); err != nil {
					res.Warnings = append(res.Warnings, "the tokens that could not be revoked could not be kept either: "+err.Error())
				} else {
					res.Pending = r.failed
				}
			}
		}
	}
	if err := u.store.Delete(ctx, key); err != nil {
		return res, err
	}
	return res, nil
}

type revocation struct {
	revoked, failed, warnings []string
}

// revoke revokes the refresh token first: it is the long-lived one, and
// revoking it also ends the access tokens of its family at most Authorities.
func (u *Logout) revoke(ctx context.Context, authority ports.Authority, s domain.Session) revocation {
	var r revocation
	for _, t := range []struct {
		secret domain.Secret
		hint   string
	}{{s.Refresh, "refresh_token"}, {s.Access.Value, "access_token"}} {
		if t.secret.IsZero() || (t.hint == "access_token" && s.Access.Expired(u.clock.Now())) {
			continue
		}
		ok, err := authority.Revoke(ctx, t.secret, t.hint)
		switch {
		case errors.Is(err, ports.ErrNotRevocable):
			// Not a failure to retry later: the Authority cannot do it.
			r.warnings = append(r.warnings, "the Authority does not revoke "+strings.ReplaceAll(t.hint, "_", " ")+"s (unsupported_token_type); this one stays valid until it expires")
		case err != nil:
			r.failed = append(r.failed, t.hint)
			r.warnings = append(r.warnings, "could not revoke the "+t.hint+": "+err.Error())
		case !ok:
			r.warnings = append(r.warnings, "the Authority offers no revocation endpoint; the tokens stay valid until they expire")
			return r
		default:
			r.revoked = append(r.revoked, t.hint)
		}
	}
	return r
}
