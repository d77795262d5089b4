package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Pending revocations are retried by commands that reach the Authority,
// quietly and within bounds: a few per command, a few seconds in all, so
// an Authority whose revocation endpoint stays down never slows every
// command by much.
const (
	maxPendingPerCommand = 4
	pendingRetryBudget   = 5 * time.Second
)

// pendingRevocations keeps and retries the tokens logout could not revoke
// (SPEC §3.2).
type pendingRevocations struct {
	store ports.SessionStore
	clock ports.Clock
	log   *slog.Logger
}

// keep stores the tokens of s that were not revoked (failed names them:
// "refresh_token", "access_token"), sealed like a session.
func (p pendingRevocations) keep(ctx context.Context, s domain.Session, failed []string) error {
	now := p.clock.Now()
	pend := s
	pend.Key = s.Key.PendingRevocationKey(now.UTC().Format("20060102T150405.000000000Z"))
	pend.Created = now
	pend.Nonces = nil
	pend.Claims = nil
	pend.IDToken = domain.Secret{}
	keepRefresh := false
	for _, f := range failed {
		keepRefresh = keepRefresh || f == "refresh_token"
	}
	if !keepRefresh {
		pend.Refresh = domain.Secret{}
	}
	return p.store.Save(ctx, pend)
}

// retry revokes the pending revocations recorded for this Authority and
// client, with authority (which must be configured for exactly them).
// Revoked or expired ones are deleted; failures are logged and kept.
func (p pendingRevocations) retry(ctx context.Context, authority ports.Authority, issuer, clientID string) {
	if p.store == nil || authority == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pendingRetryBudget)
	defer cancel()
	keys, err := p.store.List(ctx)
	if err != nil {
		p.log.Debug("pending revocations not retried", "error", err)
		return
	}
	n := 0
	for _, key := range keys {
		if !key.IsPendingRevocation() || key.Issuer != issuer || key.ClientID != clientID {
			continue
		}
		if n++; n > maxPendingPerCommand {
			break
		}
		p.retryOne(ctx, authority, key)
	}
}

func (p pendingRevocations) retryOne(ctx context.Context, authority ports.Authority, key domain.SessionKey) {
	s, err := p.store.Load(ctx, key)
	if err != nil {
		p.log.Debug("pending revocation unreadable; left in place for auth doctor", "entry", key.ID(), "error", err)
		return
	}
	now := p.clock.Now()
	if s.PendingExpired(now) {
		p.log.Debug("pending revocation expired; dropped", "entry", key.ID())
		p.drop(ctx, key)
		return
	}
	for _, hint := range s.PendingTokens(now) {
		tok := s.Access.Value
		if hint == "refresh_token" {
			tok = s.Refresh
		}
		ok, err := authority.Revoke(ctx, tok, hint)
		switch {
		case errors.Is(err, ports.ErrNotRevocable):
			p.log.Debug("the Authority does not revoke this token type; dropped from the pending revocation", "entry", key.ID(), "hint", hint)
			continue
		case err != nil:
			p.log.Debug("pending revocation failed again; kept", "entry", key.ID(), "hint", hint, "error", err)
			if hint == "access_token" && !s.Refresh.IsZero() {
				// The refresh token went: keep only what is left.
				s.Refresh = domain.Secret{}
				if serr := p.store.Save(ctx, s); serr != nil {
					p.log.Debug("pending revocation not updated", "error", serr)
				}
			}
			return
		case !ok:
			p.log.Debug("the Authority no longer offers revocation; pending revocation dropped", "entry", key.ID())
			p.drop(ctx, key)
			return
		}
		p.log.Debug("pending revocation done", "entry", key.ID(), "hint", hint)
	}
	p.drop(ctx, key)
}

func (p pendingRevocations) drop(ctx context.Context, key domain.SessionKey) {
	if err := p.store.Delete(ctx, key); err != nil {
		p.log.Debug("pending revocation not deleted", "entry", key.ID(), "error", err)
	}
}
