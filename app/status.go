package app

import (
	"context"
	"errors"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// StatusInput selects the sessions to describe.
type StatusInput struct {
	All bool
}

// SessionStatus describes one stored session without contacting anyone.
type SessionStatus struct {
	Key         domain.SessionKey
	Identity    domain.Identity
	Grant       string
	Scopes      domain.Scopes
	TokenType   string
	Expiry      time.Time
	ExpiryWords string
	Expired     bool
	HasRefresh  bool
	Usable      bool
	Constraint  domain.SenderConstraint
	Error       error // the session exists but could not be read
	// KeyCache says whether the key that opened the session came from the
	// kernel key cache, and until when it stays there (zero: the store
	// has no such cache, as memory has not).
	KeyCache ports.KeyCacheStatus
}

// StatusOutput is the answer of `stella auth status`.
type StatusOutput struct {
	Store    ports.StoreInfo
	Sessions []SessionStatus
	// Shared describes the fleet cache (TokenStorage: redis): the one
	// thing status asks over the network, bounded, because whether the
	// fleet's cache answers is what a runner's status is about.
	Shared  *ports.SharedCacheState
	Pending []PendingStatus // with All: tokens logout could not revoke yet
}

// PendingStatus describes one pending revocation (SPEC §3.2).
type PendingStatus struct {
	Profile  string // the profile whose session it was
	Issuer   string
	ClientID string
	Tokens   []string // still to revoke: "refresh_token", "access_token"
	Since    time.Time
}

// Status reads sessions from the store; it never uses the network.
type Status struct {
	settings domain.Settings
	store    ports.SessionStore
	clock    ports.Clock
}

// NewStatus builds the use case; it does no I/O.
func NewStatus(s domain.Settings, store ports.SessionStore, clock ports.Clock) *Status {
	return &Status{settings: s, store: store, clock: clock}
}

// Do reports. With All false and no usable session it returns the status
// and a login-required error, so scripts can branch on exit 12.
func (u *Status) Do(ctx context.Context, in StatusInput) (out StatusOutput, err error) {
	// The store says what it is once it has been used: `auto` decides on
	// first use.
	defer func() { out.Store = u.store.Info() }()
	if sc, ok := u.store.(ports.SharedCache); ok && u.settings.RequireAuthority() == nil {
		st := sc.Describe(ctx, u.settings.SessionKey())
		out.Shared = &st
	}
	keys := []domain.SessionKey{u.settings.SessionKey()}
	if in.All {
		if keys, err = u.store.List(ctx); err != nil {
			return out, err
		}
	} else if err := u.settings.RequireAuthority(); err != nil {
		return out, err
	}
	now := u.clock.Now()
	usable := false
	for _, key := range keys {
		if key.IsPendingRevocation() {
			if p, err := u.store.Load(ctx, key); err == nil && !p.PendingExpired(now) {
				out.Pending = append(out.Pending, PendingStatus{Profile: key.PendingProfile(), Issuer: key.Issuer, ClientID: key.ClientID,
					Tokens: p.PendingTokens(now), Since: p.Created})
			}
			continue
		}
		s, err := u.store.Load(ctx, key)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			if !in.All {
				return out, err
			}
			out.Sessions = append(out.Sessions, SessionStatus{Key: key, Error: err})
			continue
		}
		hasSecret := u.settings.HasClientSecret() && key == u.settings.SessionKey()
		st := SessionStatus{
			Key: key, Identity: s.Identity, Grant: s.Grant, Scopes: s.Access.Scopes, TokenType: s.Access.Type,
			Expiry: s.Access.Expiry, ExpiryWords: ExpiryWords(now, s.Access.Expiry), Expired: s.Access.Expired(now),
			HasRefresh: !s.Refresh.IsZero(), Usable: s.Usable(now, hasSecret), Constraint: s.Constraint,
		}
		if r, ok := u.store.(ports.KeyCacheReporter); ok {
			st.KeyCache = r.KeyCacheStatus(key)
		}
		usable = usable || st.Usable
		out.Sessions = append(out.Sessions, st)
	}
	if !usable {
		if len(out.Sessions) == 0 {
			return out, notSignedIn(u.settings)
		}
		return out, domain.E(domain.KindLoginRequired, "the session has expired and cannot be renewed",
			"Sign in again: `"+LoginCommand(u.settings)+"`.")
	}
	return out, nil
}
