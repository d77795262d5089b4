package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Flow is a sign-in method (SPEC §3.1).
type Flow int

const (
	FlowAuto Flow = iota
	FlowBrowser
	FlowDevice
	FlowClientCredentials
	FlowPassword
)

func (f Flow) String() string {
	return [...]string{"auto", "browser", "device", "client credentials", "password"}[f]
}

// LoginInput says how to sign in.
type LoginInput struct {
	Flow         Flow
	Force        bool // sign in again even when the session is valid
	NoBrowser    bool // print the URL, keep the listener, open nothing
	CallbackPort int  // fixed loopback port; 0 for an ephemeral one
}

// LoginOutput describes the session that is now in force.
type LoginOutput struct {
	Session         domain.Session
	Store           ports.StoreInfo
	Flow            Flow
	AlreadySignedIn bool
	Warnings        []string
}

// Login signs in with the chosen flow and stores the session.
type Login struct {
	settings  domain.Settings
	store     ports.SessionStore
	locker    ports.SessionLocker
	authority ports.Authority
	tokens    *TokenManager
	people    People
	clock     ports.Clock
	log       *slog.Logger
}

// NewLogin builds the use case; it does no I/O.
func NewLogin(s domain.Settings, store ports.SessionStore, locker ports.SessionLocker, authority ports.Authority,
	tokens *TokenManager, people People, clock ports.Clock, log *slog.Logger) *Login {
	return &Login{settings: s, store: store, locker: locker, authority: authority, tokens: tokens, people: people, clock: clock, log: log}
}

// Do signs in.
func (u *Login) Do(ctx context.Context, in LoginInput) (out LoginOutput, err error) {
	if err := u.settings.RequireAuthority(); err != nil {
		return LoginOutput{}, err
	}
	// A shared fleet cache holds the client's own token; a person's
	// session in it would be handed to every runner (SPEC §5 redis).
	if u.settings.TokenStorage == domain.StorageRedis {
		if person := in.Flow != FlowAuto && in.Flow != FlowClientCredentials; person || !u.settings.HasClientSecret() {
			what := "a person's sign-in"
			if person {
				what = "a " + in.Flow.String() + " sign-in"
			}
			return LoginOutput{}, domain.E(domain.KindUsage,
				"TokenStorage: redis shares client-credential sessions only; "+what+" is a person's session and is never shared",
				"Choose another storage for it (--token-storage keychain or file), or sign in as the client with a client secret (STELLA_CLIENT_SECRET_FILE).")
		}
	}
	flow, why, err := u.chooseFlow(in.Flow)
	if err != nil {
		return LoginOutput{}, err
	}
	out.Flow = flow
	defer func() { out.Store = u.store.Info() }()
	if why != "" {
		u.people.Console.Say(why)
	}
	if flow == FlowPassword {
		out.Warnings = append(out.Warnings,
			"the password grant is deprecated (OAuth 2.1 removes it); use `stella auth login` (browser or device) or client credentials where the Authority allows")
	}

	// What the store holds now, whatever its mode: a different session after
	// the lock means another process signed in meanwhile.
	prior, priorErr := u.store.Load(ctx, u.settings.SessionKey())
	existing, err := u.tokens.Current(ctx)
	if err != nil && in.Force && domain.KindOf(err) == domain.KindStorage {
		// --force replaces a session this configuration cannot read, but
		// keeps the old file aside: the right passphrase may open it yet.
		q, ok := u.store.(ports.Quarantiner)
		if !ok {
			return LoginOutput{}, err
		}
		movedTo, qerr := q.Quarantine(ctx, u.settings.SessionKey())
		if qerr != nil {
			return LoginOutput{}, errors.Join(err, qerr)
		}
		if movedTo != "" {
			out.Warnings = append(out.Warnings, "the stored session could not be read ("+err.Error()+"); it was moved aside to "+movedTo)
		}
		existing, err = nil, nil
		prior, priorErr = domain.Session{}, domain.ErrNotFound
	}
	if err != nil && domain.KindOf(err) != domain.KindLoginRequired {
		return LoginOutput{}, err
	}
	if existing != nil && !in.Force && !existing.Access.Expired(u.clock.Now()) {
		// A session without a scope the configuration now asks for would
		// only earn a 403 on the next call: sign in again, and say why.
		lacks := existing.Access.Scopes.Missing(u.settings.ConfiguredScopes())
		if len(lacks) == 0 {
			out.Session, out.AlreadySignedIn = *existing, true
			return out, nil
		}
		u.people.Console.Say(fmt.Sprintf("The session lacks %s, which the configuration asks for; signing in again.",
			domain.Printable(lacks.String(), 300)))
		in.Force = true
	}

	// The session lock makes a sign-in single-flight across processes too.
	lctx, cancel := context.WithTimeout(ctx, max(lockWait, u.settings.WaitTimeout))
	defer cancel()
	unlock, err := u.locker.Lock(lctx, u.settings.SessionKey())
	if err != nil {
		if ctx.Err() != nil {
			return LoginOutput{}, ctx.Err()
		}
		return LoginOutput{}, err
	}
	defer unlock()

	// Interactive sign-in is single-flight too: a process that waited for
	// another one's sign-in uses its result instead of opening a second
	// browser or device code.
	if fresh, err := u.store.Load(ctx, u.settings.SessionKey()); err == nil && !fresh.Access.Expired(u.clock.Now()) &&
		fresh.Constraint.Mode == u.settings.AuthMode && (priorErr != nil || !fresh.Access.Value.Equal(prior.Access.Value)) {
		u.tokens.Adopt(fresh)
		out.Session, out.AlreadySignedIn = fresh, true
		return out, nil
	}

	// A new sign-in gets a new proof key (SPEC §3.9).
	b, err := u.tokens.newBinding()
	if err != nil {
		return LoginOutput{}, err
	}
	g, grant, err := u.grant(ctx, in, flow, b)
	if err != nil {
		return LoginOutput{}, err
	}
	s := newSession(u.settings, grant, g, u.clock.Now(), b)
	u.completeIdentity(ctx, &s)
	s.Nonces = u.tokens.nonceSnapshot(nil)
	if err := u.store.Save(ctx, s); err != nil {
		return LoginOutput{}, err
	}
	u.tokens.Adopt(s)
	out.Session = s
	u.tokens.RetryPendingRevocations(ctx)
	// A person's sign-in kept only in memory is gone when this process
	// exits: say so, or the next command's "not signed in" is a surprise.
	if (flow == FlowBrowser || flow == FlowDevice) && u.store.Info().Kind == domain.StorageMemory {
		out.Warnings = append(out.Warnings, "the session is kept in memory only and ends with this process; "+
			"the next stella command will ask you to sign in again (set TokenStorage to keychain or file to keep it)")
	}

	// The superseded refresh token is revoked only once the new session is
	// safely saved, so a failed sign-in never leaves the user with nothing.
	if existing != nil && !existing.Refresh.IsZero() && !existing.Refresh.Equal(s.Refresh) {
		if _, err := u.authority.Revoke(ctx, existing.Refresh, "refresh_token"); err != nil {
			// Never abandoned: kept sealed for a later command to revoke.
			kept := pendingRevocations{store: u.store, clock: u.clock, log: u.log}.keep(ctx, *existing, []string{"refresh_token"})
			msg := "could not revoke the previous session's refresh token: " + err.Error()
			if kept == nil {
				msg += "; it is kept as a pending revocation that later commands retry"
			}
			out.Warnings = append(out.Warnings, msg)
		}
	}
	return out, nil
}

func (u *Login) grant(ctx context.Context, in LoginInput, flow Flow, b binding) (domain.Grant, string, error) {
	req := ports.TokenRequest{Scopes: u.settings.WantedScopes(false), Audience: u.settings.Audience, DPoPKey: b.key}
	switch flow {
	case FlowBrowser:
		req.Scopes = u.settings.WantedScopes(true)
		g, err := u.browserFlow(ctx, in, req, b)
		return g, domain.GrantAuthorizationCode, err
	case FlowDevice:
		req.Scopes = u.settings.WantedScopes(true)
		g, err := u.deviceFlow(ctx, req)
		return g, domain.GrantDeviceCode, err
	case FlowClientCredentials:
		if !u.settings.HasClientSecret() {
			return domain.Grant{}, "", domain.E(domain.KindUsage, "client credentials need a client secret",
				"Set STELLA_CLIENT_SECRET_FILE (or StellaOps.Authority.ClientSecretFile in the profile).")
		}
		g, err := u.authority.ClientCredentials(ctx, req)
		return g, domain.GrantClientCredentials, err
	case FlowPassword:
		if u.settings.Username == "" || u.settings.Password.IsZero() {
			return domain.Grant{}, "", domain.E(domain.KindUsage, "the password grant needs STELLA_USERNAME and STELLA_PASSWORD (or STELLA_PASSWORD_FILE)",
				"Set both variables; stella never prompts for a password.")
		}
		g, err := u.authority.Password(ctx, req, u.settings.Username, u.settings.Password)
		return g, domain.GrantPassword, err
	}
	return domain.Grant{}, "", domain.E(domain.KindUnexpected, fmt.Sprintf("unknown sign-in flow %d", flow), "")
}

// chooseFlow applies the ladder of SPEC §3.1 to a flow that was not named,
// and says why when it falls back to the device flow.
func (u *Login) chooseFlow(f Flow) (Flow, string, error) {
	if f != FlowAuto {
		return f, "", nil
	}
	if u.settings.HasClientSecret() {
		return FlowClientCredentials, "", nil
	}
	ok, why := u.people.Browser.CanOpen()
	switch {
	case ok:
		return FlowBrowser, "", nil
	case !u.settings.NonInteractive:
		return FlowDevice, "Signing in with a device code because " + why + "; use --browser to force the browser.", nil
	}
	return 0, "", domain.E(domain.KindLoginRequired, "no credentials for a non-interactive sign-in",
		"Set STELLA_CLIENT_SECRET_FILE for client credentials, or pass --browser or --headless to sign in as a person.")
}

// errNoSession is returned by use cases that need a stored session.
var errNoSession = errors.New("no session")

// completeIdentity asks userinfo for the name and email a person's ID token
// left out. OIDC Core §5.4: when an access token is issued, claims
// requested by scope (profile, email) may be returned from the userinfo
// endpoint only, as oidc-provider does by default. Best effort: the
// sign-in stands without them. A userinfo answer for another subject is
// ignored (OIDC Core §5.3.2).
//
// Without an ID token (a device-flow answer may lack one) the whole
// identity comes from userinfo, the Authority's authenticated answer;
// without that either it stays unknown.
func (u *Login) completeIdentity(ctx context.Context, s *domain.Session) {
	if (s.Identity.Name != "" && s.Identity.Email != "") || !s.Access.Scopes.Union(u.settings.WantedScopes(true)).Has("openid") {
		return
	}
	info, err := u.authority.UserInfo(ctx, domain.Credential{Access: s.Access, Constraint: s.Constraint, DPoPKey: s.DPoPKey})
	if err != nil {
		u.log.Debug("userinfo after sign-in unavailable", "error", err)
		return
	}
	if s.Identity.Subject == "" {
		s.Identity.Subject = domain.ClaimUntrusted(info, "sub")
	}
	if domain.ClaimUntrusted(info, "sub") != s.Identity.Subject {
		u.log.Debug("userinfo after sign-in answered for another subject; ignored")
		return
	}
	id := domain.IdentityFromClaims(info)
	if s.Identity.Name == "" {
		s.Identity.Name = id.Name
	}
	if s.Identity.Email == "" {
		s.Identity.Email = id.Email
	}
	if s.Identity.Tenant == "" {
		s.Identity.Tenant = id.Tenant
	}
}
