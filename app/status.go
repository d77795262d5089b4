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
	State   StatusState
	// Ready is set when no session is stored but client credentials are
	// configured: the next command that needs a token signs in by itself,
	// which is what a CI pre-flight check wants to know.
	Ready *ReadyCredentials
}

// PendingStatus describes one pending revocation (SPEC §3.2).
type PendingStatus struct {
	Profile  string // the profile whose session it was
	Issuer   string
	ClientID string
	Tokens   []string // still to revoke: "refresh_token", "access_token"
	Since    time.Time
}

// StatusState sums up status for scripts; each state has its exit code.
type StatusState string

const (
	StateSignedIn   StatusState = "signed_in"     // a usable session (exit 0)
	StateReady      StatusState = "ready"         // no session, client credentials configured (exit 0)
	StateNone       StatusState = "not_signed_in" // no session, nothing to sign in with (exit 12)
	StateExpired    StatusState = "expired"       // a session that cannot be renewed (exit 12)
	StateUnreadable StatusState = "unreadable"    // a session exists but cannot be read (exit 18)
)

// ReadyCredentials says who the next command will sign in as, and which
// setting holds the secret.
type ReadyCredentials struct {
	ClientID     string
	Authority    string
	SecretSource string
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
	var unreadable error
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
		if err != nil && ctx.Err() != nil {
			// Interrupted (at the passphrase prompt, say): the session is
			// not unreadable, and there is nothing to show but that.
			return StatusOutput{}, ctx.Err()
		}
		if err != nil {
			// A session that exists but cannot be read is not "no
			// session": scripts must not sign in over it blindly.
			out.Sessions = append(out.Sessions, SessionStatus{Key: key, Error: err})
			if unreadable == nil {
				unreadable = err
			}
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
	switch {
	case usable:
		out.State = StateSignedIn
		return out, nil
	case unreadable != nil:
		out.State = StateUnreadable
		if domain.KindOf(unreadable) != domain.KindStorage {
			unreadable = domain.Wrap(domain.KindStorage, unreadable, "the stored session cannot be read",
				"Run `stella auth doctor`; it moves an unreadable session aside and says why.")
		}
		return out, unreadable
	case len(out.Sessions) == 0 && !in.All && u.settings.HasClientSecret():
		out.State = StateReady
		out.Ready = &ReadyCredentials{ClientID: u.settings.ClientID, Authority: u.settings.AuthorityURL,
			SecretSource: u.settings.ClientSecretSource()}
		return out, nil
	case len(out.Sessions) == 0:
		out.State = StateNone
		return out, notSignedIn(u.settings)
	}
	out.State = StateExpired
	return out, domain.E(domain.KindLoginRequired, "the session has expired and cannot be renewed",
		"Sign in again: `"+u.settings.LoginCommand()+"`.")
}
