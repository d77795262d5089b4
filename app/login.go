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

// Interactive holds the ports a person's sign-in (browser or device) uses
// besides the token endpoint: the interactive Authority, the loopback
// listener, the browser, randomness, a sleeper and the console.
type Interactive struct {
	Authority ports.InteractiveAuthority
	Listener  ports.RedirectListener
	Browser   ports.Browser
	Random    ports.Random
	Sleeper   ports.Sleeper
	Console   ports.Console
}

// A signInFlow gets the grant of a new session in one way (SPEC §3.1).
// Login picks the flow and does the rest: the lock, single flight, the
// proof key, identity, saving, and revoking what the session replaces.
type signInFlow interface {
	grant(ctx context.Context, in signInInput) (domain.Grant, error)
	grantType() string // recorded with the session (domain.Grant*)
	// interactive: a person at this terminal takes part (browser, device),
	// so the default scopes of a person apply (SPEC §2) and a session kept
	// in memory only is worth a warning.
	interactive() bool
}

// signInInput is what a flow is given: the token request (scopes,
// audience, proof key) and the new session's binding.
type signInInput struct {
	LoginInput
	req     ports.TokenRequest
	binding binding
}

// Login signs in with the chosen flow and stores the session.
type Login struct {
	settings    domain.Settings
	store       ports.SessionStore
	locker      ports.SessionLocker
	authority   ports.Authority
	tokens      *TokenManager
	interactive Interactive
	clock       ports.Clock
	log         *slog.Logger
}

// NewLogin builds the use case; it does no I/O.
func NewLogin(s domain.Settings, store ports.SessionStore, locker ports.SessionLocker, authority ports.Authority,
	tokens *TokenManager, interactive Interactive, clock ports.Clock, log *slog.Logger) *Login {
	return &Login{settings: s, store: store, locker: locker, authority: authority, tokens: tokens, interactive: interactive, clock: clock, log: log}
}

// flow is the dispatcher: the type that signs in with f.
func (u *Login) flow(f Flow) (signInFlow, error) {
	p := u.interactive
	switch f {
	case FlowBrowser:
		return browserSignIn{authority: p.Authority, listener: p.Listener, browser: p.Browser, random: p.Random, console: p.Console,
			wait: u.settings.WaitTimeout}, nil
	case FlowDevice:
		return deviceSignIn{authority: p.Authority, sleeper: p.Sleeper, console: p.Console, clock: u.clock,
			wait: u.settings.WaitTimeout, login: u.settings.LoginCommand()}, nil
	case FlowClientCredentials:
		return clientCredentialsSignIn{settings: u.settings, authority: u.authority}, nil
	case FlowPassword:
		return passwordSignIn{settings: u.settings, authority: u.authority}, nil
	}
	return nil, domain.E(domain.KindUnexpected, fmt.Sprintf("unknown sign-in flow %d", f), "")
}

// standing is the session as it stood before the sign-in.
type standing struct {
	// prior is what the store held, whatever its mode: a different session
	// after the lock means another process signed in meanwhile.
	prior    domain.Session
	priorErr error
	// existing is this configuration's session (nil: none), whose refresh
	// token the new session supersedes.
	existing *domain.Session
}

// Do signs in.
func (u *Login) Do(ctx context.Context, in LoginInput) (out LoginOutput, err error) {
	if err := u.settings.RequireAuthority(); err != nil {
		return LoginOutput{}, err
	}
	if err := u.sharedCacheAllows(in.Flow); err != nil {
		return LoginOutput{}, err
	}
	f, why, err := u.chooseFlow(in.Flow)
	if err != nil {
		return LoginOutput{}, err
	}
	flow, err := u.flow(f)
	if err != nil {
		return LoginOutput{}, err
	}
	out.Flow = f
	defer func() { out.Store = u.store.Info() }()
	if why != "" {
		u.interactive.Console.Say(why)
	}
	if f == FlowPassword {
		out.Warnings = append(out.Warnings,
			"the password grant is deprecated (OAuth 2.1 removes it); use `"+u.settings.LoginCommand()+"` (browser or device) or client credentials where the Authority allows")
	}

	st, err := u.standing(ctx, in.Force, &out)
	if err != nil {
		return LoginOutput{}, err
	}
	if u.stillSignedIn(st.existing, &in, &out) {
		return out, nil
	}
	// The session lock makes a sign-in single-flight across processes too.
	return withSessionLock(ctx, u.locker, u.settings.SessionKey(), max(lockWait, u.settings.WaitTimeout), func() (LoginOutput, error) {
		return u.signIn(ctx, in, flow, st, out)
	})
}

// sharedCacheAllows refuses a person's sign-in into a shared fleet cache,
// which holds the client's own token: a person's session in it would be
// handed to every runner (SPEC §5 redis).
func (u *Login) sharedCacheAllows(f Flow) error {
	if u.settings.TokenStorage != domain.StorageRedis {
		return nil
	}
	person := f != FlowAuto && f != FlowClientCredentials
	if !person && u.settings.HasClientSecret() {
		return nil
	}
	what := "a person's sign-in"
	if person {
		what = "a " + f.String() + " sign-in"
	}
	return domain.E(domain.KindUsage,
		"TokenStorage: redis shares client-credential sessions only; "+what+" is a person's session and is never shared",
		"Choose another storage for it (--token-storage keychain or file), or sign in as the client with a client secret (STELLA_CLIENT_SECRET_FILE).")
}

// standing reads the session as it is now. With force, a session this
// configuration cannot read is replaced, but the old file is kept aside:
// the right passphrase may open it yet.
func (u *Login) standing(ctx context.Context, force bool, out *LoginOutput) (standing, error) {
	var st standing
	st.prior, st.priorErr = u.store.Load(ctx, u.settings.SessionKey())
	existing, err := u.tokens.Current(ctx)
	if err != nil && force && domain.KindOf(err) == domain.KindStorage {
		q, ok := u.store.(ports.Quarantiner)
		if !ok {
			return standing{}, err
		}
		movedTo, qerr := q.Quarantine(ctx, u.settings.SessionKey())
		if qerr != nil {
			return standing{}, errors.Join(err, qerr)
		}
		if movedTo != "" {
			out.Warnings = append(out.Warnings, "the stored session could not be read ("+err.Error()+"); it was moved aside to "+movedTo)
		}
		return standing{prior: domain.Session{}, priorErr: domain.ErrNotFound}, nil
	}
	if err != nil && domain.KindOf(err) != domain.KindLoginRequired {
		return standing{}, err
	}
	st.existing = existing
	return st, nil
}

// stillSignedIn reports whether the existing session stands (out says so),
// unless in.Force. A session without a scope the configuration now asks
// for would only earn a 403 on the next call: it is replaced (in.Force is
// set), and the console says why.
func (u *Login) stillSignedIn(existing *domain.Session, in *LoginInput, out *LoginOutput) bool {
	if existing == nil || in.Force || existing.Access.Expired(u.clock.Now()) {
		return false
	}
	lacks := existing.Access.Scopes.Missing(u.settings.ConfiguredScopes())
	if len(lacks) == 0 {
		out.Session, out.AlreadySignedIn = *existing, true
		return true
	}
	u.interactive.Console.Say(fmt.Sprintf("The session lacks %s, which the configuration asks for; signing in again.",
		domain.Printable(lacks.String(), 300)))
	in.Force = true
	return false
}

// signIn runs the flow under the session lock, saves the new session and
// retires the one it replaces.
func (u *Login) signIn(ctx context.Context, in LoginInput, flow signInFlow, st standing, out LoginOutput) (LoginOutput, error) {
	// Interactive sign-in is single-flight too: a process that waited for
	// another one's sign-in uses its result instead of opening a second
	// browser or device code.
	if fresh, err := u.store.Load(ctx, u.settings.SessionKey()); err == nil && !fresh.Access.Expired(u.clock.Now()) &&
		fresh.Constraint.Mode == u.settings.AuthMode && (st.priorErr != nil || !fresh.Access.Value.Equal(st.prior.Access.Value)) {
		u.tokens.Adopt(fresh)
		out.Session, out.AlreadySignedIn = fresh, true
		return out, nil
	}

	// A new sign-in gets a new proof key (SPEC §3.9).
	b, err := u.tokens.binder.fresh()
	if err != nil {
		return LoginOutput{}, err
	}
	req := ports.TokenRequest{Scopes: u.settings.WantedScopes(flow.interactive()), Audience: u.settings.Audience, DPoPKey: b.key}
	g, err := flow.grant(ctx, signInInput{LoginInput: in, req: req, binding: b})
	if err != nil {
		return LoginOutput{}, err
	}
	s := newSession(u.settings, flow.grantType(), g, u.clock.Now(), b)
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
	if flow.interactive() && u.store.Info().Kind == domain.StorageMemory {
		out.Warnings = append(out.Warnings, "the session is kept in memory only and ends with this process; "+
			"the next stella command will ask you to sign in again (set TokenStorage to keychain or file to keep it)")
	}
	if w := u.retire(ctx, st.existing, s); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	return out, nil
}

// retire revokes the refresh token the new session supersedes, and says
// (a warning) when it could not. Only once the new session is safely
// saved, so a failed sign-in never leaves the user with nothing.
func (u *Login) retire(ctx context.Context, existing *domain.Session, s domain.Session) string {
	if existing == nil || existing.Refresh.IsZero() || existing.Refresh.Equal(s.Refresh) {
		return ""
	}
	if _, err := u.authority.Revoke(ctx, existing.Refresh, "refresh_token"); err != nil {
		// Never abandoned: kept sealed for a later command to revoke.
		kept := pendingRevocations{store: u.store, clock: u.clock, log: u.log}.keep(ctx, *existing, []string{"refresh_token"})
		msg := "could not revoke the previous session's refresh token: " + err.Error()
		if kept == nil {
			msg += "; it is kept as a pending revocation that later commands retry"
		}
		return msg
	}
	return ""
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
	ok, why := u.interactive.Browser.CanOpen()
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
