package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// TokenManager is the one way to get a token. It loads the session, renews
// it when due — single-flight within the process (a mutex) and across
// processes (the store's lock, re-checking after taking it) — saves the
// result before handing it out, and returns a domain.Credential.
type TokenManager struct {
	settings  domain.Settings
	store     ports.SessionStore
	locker    ports.SessionLocker
	authority ports.Authority
	binder    binder
	nonces    ports.NonceMemory // nil: nonces are not kept with the session
	clock     ports.Clock
	log       *slog.Logger

	mu      sync.Mutex
	current *domain.Session // the session as last loaded or saved by this process

	reached     atomic.Bool // a renewal reached the Authority
	pendingOnce sync.Once   // pending revocations are retried once per process
}

// NewTokenManager builds a TokenManager; it does no I/O.
func NewTokenManager(s domain.Settings, store ports.SessionStore, locker ports.SessionLocker,
	authority ports.Authority, prover ports.Prover, nonces ports.NonceMemory, cert ports.ClientCertificate, clock ports.Clock, log *slog.Logger) *TokenManager {
	return &TokenManager{settings: s, store: store, locker: locker, authority: authority,
		binder: binder{mode: s.AuthMode, prover: prover, cert: cert}, nonces: nonces, clock: clock, log: log}
}

var _ ports.TokenSource = (*TokenManager)(nil)

// Credential returns a credential valid for at least the refresh lead.
func (m *TokenManager) Credential(ctx context.Context) (domain.Credential, error) {
	return m.CredentialFor(ctx, 0)
}

// CredentialFor returns a credential that stays valid for at least minTTL
// (and at least the refresh lead of SPEC §5).
func (m *TokenManager) CredentialFor(ctx context.Context, minTTL time.Duration) (domain.Credential, error) {
	if err := m.settings.RequireAuthority(); err != nil {
		return domain.Credential{}, err
	}
	defer m.retryPending(ctx) // after the mutex is released
	m.mu.Lock()
	defer m.mu.Unlock()

	if s := m.current; s != nil && !s.Access.DueForRefresh(m.clock.Now(), minTTL) {
		return credentialOf(*s), nil
	}
	s, err := m.load(ctx)
	if err != nil {
		return domain.Credential{}, err
	}
	if s != nil && !s.Access.DueForRefresh(m.clock.Now(), minTTL) && !m.lacksScope(s) {
		m.current = s
		return credentialOf(*s), nil
	}
	// Re-check after the lock: a session another process renewed while
	// this one waited is used, not renewed again, as long as it is still
	// valid. Judged by the newer token's own lead instead, a token that
	// lives a few seconds could be past half its life by the time the
	// last of many waiters reads it, and each of them would renew it.
	var seen domain.Secret
	if s != nil {
		seen = s.Access.Value
	}
	renewed, err := m.renewLocked(ctx, func(stored *domain.Session) bool {
		now := m.clock.Now()
		if stored == nil || stored.Access.Expired(now) || m.lacksScope(stored) {
			return true
		}
		if !stored.Access.Value.Equal(seen) {
			return false // made or renewed by another process meanwhile
		}
		return stored.Access.DueForRefresh(now, minTTL)
	})
	if err != nil {
		return domain.Credential{}, err
	}
	return credentialOf(renewed), nil
}

// lacksScope reports whether a stored client-credentials session lacks a
// scope the configuration asks for (STELLA_SCOPE changed since it was
// cached): a new grant costs no person anything, and the cached token
// would only earn a 403. Asked once per process (the renewed session is
// kept in m.current), so an Authority that never grants the scope costs
// one grant per process, not a loop.
func (m *TokenManager) lacksScope(s *domain.Session) bool {
	return s.Grant == domain.GrantClientCredentials && m.settings.HasClientSecret() &&
		len(s.Access.Scopes.Missing(m.settings.ConfiguredScopes())) > 0
}

// Renew replaces a credential a server rejected. When another goroutine or
// process has already replaced it, the newer one is returned without a
// second refresh: the Authority rotates refresh tokens and treats reuse as
// theft, so N callers that saw one 401 must cause one refresh.
func (m *TokenManager) Renew(ctx context.Context, rejected domain.Credential) (domain.Credential, error) {
	defer m.retryPending(ctx) // after the mutex is released
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.current; s != nil && !s.Access.Value.Equal(rejected.Access.Value) && !s.Access.Expired(m.clock.Now()) {
		return credentialOf(*s), nil
	}
	renewed, err := m.renewLocked(ctx, func(stored *domain.Session) bool {
		return stored == nil || stored.Access.Value.Equal(rejected.Access.Value) || stored.Access.Expired(m.clock.Now())
	})
	if err != nil {
		return domain.Credential{}, err
	}
	return credentialOf(renewed), nil
}

// Current returns the stored session without renewing it (nil when none).
func (m *TokenManager) Current(ctx context.Context) (*domain.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.current != nil {
		c := *m.current
		return &c, nil
	}
	s, err := m.load(ctx)
	if err == nil && s != nil {
		m.current = s
	}
	return s, err
}

// Adopt records a session obtained by a sign-in as the current one; the
// caller has already saved it.
func (m *TokenManager) Adopt(s domain.Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = &s
}

// load reads this configuration's session; nil without error when none.
func (m *TokenManager) load(ctx context.Context) (*domain.Session, error) {
	s, err := m.store.Load(ctx, m.settings.SessionKey())
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m.seedNonces(s)
	if s.Constraint.Mode != "" && s.Constraint.Mode != m.settings.AuthMode {
		return nil, domain.E(domain.KindLoginRequired,
			fmt.Sprintf("the stored session is %s-bound but AuthMode is %s", s.Constraint.Mode, m.settings.AuthMode),
			"Switching mode needs a new sign-in: run `"+m.settings.LoginCommand()+" --force`.")
	}
	return &s, nil
}

// renewLocked takes the cross-process lock, re-reads the session and, if
// still needed by stillDue, renews it and saves the result before
// returning it. m.mu is held by the caller.
func (m *TokenManager) renewLocked(ctx context.Context, stillDue func(*domain.Session) bool) (domain.Session, error) {
	key := m.settings.SessionKey()
	return withSessionLock(ctx, m.locker, key, lockWait, func() (domain.Session, error) {
		return m.renewHeld(ctx, key, stillDue)
	})
}

// renewHeld is renewLocked once the lock is held.
func (m *TokenManager) renewHeld(ctx context.Context, key domain.SessionKey, stillDue func(*domain.Session) bool) (domain.Session, error) {
	stored, err := m.load(ctx)
	if err != nil {
		return domain.Session{}, err
	}
	if stored != nil && !stillDue(stored) {
		m.log.Debug("session renewed by another process", "session", key.ID())
		m.current = stored
		return *stored, nil
	}

	if stored != nil && !stored.Refresh.IsZero() {
		// Reserve before spending (SPEC §5): the Authority may rotate the
		// refresh token, and a result that cannot be saved would strand
		// the session with a spent one. The save below uses the space.
		release, err := m.reserve(ctx, stored.Key)
		if err != nil {
			if now := m.clock.Now(); !stored.Access.Expired(now) {
				m.log.Warn("cannot save a renewed session, so the token was not renewed; using the cached one until it expires",
					"expires_in", stored.Access.Remaining(now).Round(time.Second).String(), "error", err)
				m.current = stored
				return *stored, nil
			}
			return domain.Session{}, err
		}
		defer release()
	}
	next, err := m.obtain(ctx, stored)
	var cached errUseCached
	if errors.As(err, &cached) {
		m.current = &cached.s
		return cached.s, nil
	}
	if err != nil {
		return domain.Session{}, err
	}
	// Save before use: the Authority rotates refresh tokens, and a crash
	// between use and save would strand the user with a spent token.
	next.Nonces = m.nonceSnapshot(next.Nonces)
	if err := m.store.Save(ctx, next); err != nil {
		return domain.Session{}, err
	}
	m.current = &next
	m.reached.Store(true)
	return next, nil
}

// retryPending retries, once per process and only after a renewal reached
// the Authority, the revocations logout left pending for this Authority
// and client (SPEC §3.2): quietly, within pendingRetryBudget.
func (m *TokenManager) retryPending(ctx context.Context) {
	if !m.reached.Load() {
		return
	}
	m.pendingOnce.Do(func() {
		pendingRevocations{store: m.store, clock: m.clock, log: m.log}.retry(ctx, m.authority, m.settings.AuthorityURL, m.settings.ClientID)
	})
}

// RetryPendingRevocations retries this Authority's pending revocations
// once per process, for a use case that has just reached the Authority
// itself (a sign-in).
func (m *TokenManager) RetryPendingRevocations(ctx context.Context) {
	m.reached.Store(true)
	m.retryPending(ctx)
}

// obtain gets a fresh session: a refresh when the session has a refresh
// token, a client-credentials grant when a client secret is configured.
func (m *TokenManager) obtain(ctx context.Context, stored *domain.Session) (domain.Session, error) {
	now := m.clock.Now()
	if err := m.binder.ready(); err != nil {
		return domain.Session{}, err
	}
	req := ports.TokenRequest{Scopes: m.settings.WantedScopes(false), Audience: m.settings.Audience}
	switch {
	case stored != nil && !stored.Refresh.IsZero():
		m.log.Debug("refreshing session", "session", stored.Key.ID(), "expires", stored.Access.Expiry)
		req.Scopes = nil // a refresh keeps the granted scopes (RFC 6749 §6)
		req.DPoPKey = m.binder.of(*stored).key
		g, err := m.authority.Refresh(ctx, req, stored.Refresh)
		if err != nil {
			return domain.Session{}, m.renewFailed(ctx, *stored, err, now)
		}
		// OIDC Core §12.2: a refreshed ID token names the same subject; a
		// different one is another identity, never silently adopted.
		if !g.IDToken.IsZero() && stored.Identity.Subject != "" && g.Identity.Subject != stored.Identity.Subject {
			return domain.Session{}, domain.E(domain.KindProtocol, "the refreshed ID token names another subject than the session's",
				"Nothing was stored. Sign in again with `"+m.settings.LoginCommand()+" --force`.")
		}
		return stored.WithGrant(g), nil
	case m.settings.HasClientSecret() && (stored == nil || stored.Grant == domain.GrantClientCredentials):
		m.log.Debug("requesting a client-credentials token", "client", m.settings.ClientID, "scopes", req.Scopes.String())
		b, err := m.binder.regrant(stored)
		if err != nil {
			return domain.Session{}, err
		}
		req.DPoPKey = b.key
		g, err := m.authority.ClientCredentials(ctx, req)
		if err != nil {
			if stored != nil {
				return domain.Session{}, m.renewFailed(ctx, *stored, err, now)
			}
			return domain.Session{}, err
		}
		return newSession(m.settings, domain.GrantClientCredentials, g, now, b), nil
	case stored == nil:
		return domain.Session{}, notSignedIn(m.settings)
	default:
		return domain.Session{}, domain.E(domain.KindLoginRequired,
			fmt.Sprintf("the session expired %s and holds no refresh token", ago(now, stored.Access.Expiry)),
			"Sign in again: `"+m.settings.LoginCommand()+"`.")
	}
}

// renewFailed decides what a failed renewal means. A dead refresh token
// (invalid_grant) ends the session: it is deleted so that status tells the
// truth. A network failure while the old token is still valid is not fatal:
// offline use continues until expiry (SPEC §5).
func (m *TokenManager) renewFailed(ctx context.Context, stored domain.Session, err error, now time.Time) error {
	switch domain.KindOf(err) {
	case domain.KindLoginRequired:
		if derr := m.store.Delete(ctx, stored.Key); derr != nil {
			m.log.Debug("could not delete the dead session", "error", derr)
		}
		return domain.Wrap(domain.KindLoginRequired, err, "the session has expired or was revoked at the Authority",
			"Sign in again: `"+m.settings.LoginCommand()+"`.")
	case domain.KindUnreachable, domain.KindServer:
		if !stored.Access.Expired(now) {
			m.log.Warn("could not renew the token; using the cached one until it expires",
				"expires_in", stored.Access.Remaining(now).Round(time.Second).String(), "error", err)
			return errUseCached{stored}
		}
		return domain.Wrap(domain.KindOf(err), err,
			fmt.Sprintf("the cached token expired %s and could not be renewed", ago(now, stored.Access.Expiry)), "")
	}
	return err
}

// errUseCached carries a still-valid session out of obtain when renewal
// failed for a transient reason.
type errUseCached struct{ s domain.Session }

func (errUseCached) Error() string { return "using cached token" }

func credentialOf(s domain.Session) domain.Credential {
	return domain.Credential{Access: s.Access, Constraint: s.Constraint, DPoPKey: s.DPoPKey}
}

// newSession makes a session from a fresh grant for the configured key.
func newSession(s domain.Settings, grant string, g domain.Grant, now time.Time, b binding) domain.Session {
	return domain.Session{
		Key:        s.SessionKey(),
		Grant:      grant,
		Access:     g.Access,
		Refresh:    g.Refresh,
		IDToken:    g.IDToken,
		Identity:   g.Identity,
		Constraint: domain.SenderConstraint{Mode: s.AuthMode, JKT: b.jkt, X5tS256: b.x5t},
		DPoPKey:    b.key,
		Created:    now,
		Claims:     g.Claims,
	}
}

func notSignedIn(s domain.Settings) error {
	return domain.E(domain.KindLoginRequired,
		fmt.Sprintf("not signed in to %s as %s", s.AuthorityURL, s.ClientID),
		"Run `"+s.LoginCommand()+"`, or for CI set STELLA_CLIENT_SECRET_FILE so stella can sign in by itself.")
}

// ago renders a past or future instant relative to now, in words.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + Words(-d)
	}
	return Words(d) + " ago"
}

// DownScoped gets a one-shot token for req by refreshing the session with
// narrower scopes and extra parameters. The token is returned, never
// stored; a refresh token rotated by the answer is saved before the token
// is used, under the same lock as every refresh.
func (m *TokenManager) DownScoped(ctx context.Context, req ports.TokenRequest) (domain.Credential, error) {
	if err := m.settings.RequireAuthority(); err != nil {
		return domain.Credential{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return withSessionLock(ctx, m.locker, m.settings.SessionKey(), lockWait, func() (domain.Credential, error) {
		return m.downScopedHeld(ctx, req)
	})
}

// downScopedHeld is DownScoped once the lock is held.
func (m *TokenManager) downScopedHeld(ctx context.Context, req ports.TokenRequest) (domain.Credential, error) {
	s, err := m.load(ctx)
	if err != nil {
		return domain.Credential{}, err
	}
	if s == nil || s.Refresh.IsZero() {
		return domain.Credential{}, domain.E(domain.KindLoginRequired, "approving needs a signed-in session with a refresh token, or the approver client's secret",
			"Sign in with `"+m.settings.LoginCommand()+"` (asking for packs.approve), or use the packs-approver profile.")
	}
	bound := m.binder.of(*s) // a refresh proves with the session's key (RFC 9449 §5)
	req.DPoPKey = bound.key
	release, err := m.reserve(ctx, s.Key)
	if err != nil {
		return domain.Credential{}, err
	}
	defer release()
	g, err := m.authority.Refresh(ctx, req, s.Refresh)
	if err != nil {
		if domain.KindOf(err) == domain.KindLoginRequired {
			return domain.Credential{}, m.renewFailed(ctx, *s, err, m.clock.Now())
		}
		return domain.Credential{}, err
	}
	if !g.Refresh.IsZero() && !g.Refresh.Equal(s.Refresh) {
		next := *s
		next.Refresh = g.Refresh
		next.Nonces = m.nonceSnapshot(next.Nonces)
		if err := m.store.Save(ctx, next); err != nil {
			return domain.Credential{}, err
		}
		m.current = &next
	}
	return domain.Credential{Access: g.Access, Constraint: s.Constraint, DPoPKey: bound.key}, nil
}

// reserve claims the space the session's next save needs, when the store
// can (ports.SpaceReserver).
func (m *TokenManager) reserve(ctx context.Context, key domain.SessionKey) (func(), error) {
	r, ok := m.store.(ports.SpaceReserver)
	if !ok {
		return func() {}, nil
	}
	release, err := r.Reserve(ctx, key)
	if err != nil {
		m.log.Debug("no refresh: the renewed session could not be saved", "session", key.ID(), "error", err)
		return nil, err
	}
	return release, nil
}

// seedNonces gives the process the DPoP nonces kept with a session, so its
// first request to each server carries the latest nonce (SPEC §5).
func (m *TokenManager) seedNonces(s domain.Session) {
	if m.nonces != nil && s.Constraint.Mode == domain.AuthModeDPoP {
		m.nonces.Seed(s.Nonces)
	}
}

// nonceSnapshot is what to keep with a session being saved: what this
// process knows, else what the session had.
func (m *TokenManager) nonceSnapshot(had []domain.DPoPNonce) []domain.DPoPNonce {
	if m.nonces == nil || m.settings.AuthMode != domain.AuthModeDPoP {
		return had
	}
	m.nonces.Seed(had)
	return m.nonces.Snapshot()
}

// nonceSaveWait bounds how long keeping a new nonce may wait for the lock:
// it is an optimisation, never worth delaying a command for.
const nonceSaveWait = 2 * time.Second

var _ ports.NonceKeeper = (*TokenManager)(nil)

// KeepNonces saves the DPoP nonces this process learnt since the session
// was loaded or saved, when a value changed (a backend's first nonce, a
// rotation). Under the lock, on the stored session as it is now: another
// process may have renewed it meanwhile. Failures are logged, never
// returned.
func (m *TokenManager) KeepNonces(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nonces == nil || m.current == nil || m.current.Constraint.Mode != domain.AuthModeDPoP {
		return
	}
	known := m.nonces.Snapshot()
	if domain.SameNonceValues(known, domain.FreshNonces(m.current.Nonces, m.clock.Now())) {
		return
	}
	stored, err := withSessionLock(ctx, m.locker, m.settings.SessionKey(), nonceSaveWait, func() (*domain.Session, error) {
		stored, err := m.load(ctx)
		if err != nil || stored == nil {
			m.log.Debug("DPoP nonces not kept: the session is gone or unreadable", "error", err)
			return nil, nil
		}
		stored.Nonces = m.nonceSnapshot(stored.Nonces)
		return stored, m.store.Save(ctx, *stored)
	})
	switch {
	case err != nil:
		m.log.Debug("DPoP nonces not kept", "error", err)
	case stored != nil:
		m.log.Debug("kept the latest DPoP nonces with the session", "servers", len(stored.Nonces))
		m.current = stored
	}
}
