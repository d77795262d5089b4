// Package ports declares what the core (app) needs from the world. Each
// interface is small and named for its role; adapters implement them and
// carry a compile-time check beside their implementation.
//
// ports imports domain and the standard library only.
package ports

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/stellaops/stella/domain"
)

// Clock is the only source of the current time for the core.
type Clock interface {
	Now() time.Time
}

// SessionStore keeps sessions. Load returns an error matching
// domain.ErrNotFound when the key has no session; undecryptable or foreign
// data is a domain.ErrStorage, and the data is left untouched.
type SessionStore interface {
	Load(ctx context.Context, key domain.SessionKey) (domain.Session, error)
	Save(ctx context.Context, s domain.Session) error
	Delete(ctx context.Context, key domain.SessionKey) error
	List(ctx context.Context) ([]domain.SessionKey, error)
	// Info describes the backend for `auth status` without doing I/O.
	Info() StoreInfo
}

// Quarantiner is a store that can move a session it cannot read aside
// (never deleting it) and say where it went: `auth doctor` and
// `auth login --force` use it so an unreadable session is never lost.
type Quarantiner interface {
	Quarantine(ctx context.Context, key domain.SessionKey) (movedTo string, err error)
}

// SpaceReserver is a store that can claim, before a refresh that may
// rotate the refresh token is sent, the space the session's next save
// needs (SPEC §5): a full disk then fails before the request, while the
// stored refresh token is still the live one, not after it was spent.
// release gives the space back (a save uses it); it is safe to call twice.
type SpaceReserver interface {
	Reserve(ctx context.Context, key domain.SessionKey) (release func(), err error)
}

// StorageInspector looks at the credential store for `auth doctor`.
type StorageInspector interface {
	// Keychain probes the OS keychain afresh (bounded); used says whether
	// this configuration keeps its sessions there.
	Keychain(ctx context.Context) (used bool, err error)
	// CacheDir checks that the token cache directory is the user's alone.
	CacheDir() (path string, err error)
	// Sessions opens every stored session; unreadable ones are moved aside.
	Sessions(ctx context.Context) ([]SessionFile, error)
}

// SessionFile is what `auth doctor` found of one stored session.
type SessionFile struct {
	Path    string
	Key     domain.SessionKey // zero when the file says nothing readable
	Err     error             // nil when it opened
	MovedTo string            // where an unreadable file was moved
}

// StoreInfo says which backend holds sessions, where, and why it was chosen.
type StoreInfo struct {
	Kind     domain.StorageKind
	Label    string // "encrypted file", "memory", "keychain"
	Location string // a directory or a keychain service name
	Reason   string // why this backend was chosen
}

// SessionLocker serialises work on one session across processes (refresh,
// interactive sign-in). Lock waits until the lock is free or ctx ends; the
// returned function releases it. A crashed holder never blocks others.
type SessionLocker interface {
	Lock(ctx context.Context, key domain.SessionKey) (unlock func(), err error)
}

// TokenRequest is what a grant asks for beyond the client's identity.
type TokenRequest struct {
	Scopes   domain.Scopes
	Audience string            // RFC 8707 resource indicator, optional
	Extra    map[string]string // extra token request parameters (pack approval)
	// DPoPKey binds the token to this key (AuthMode dpop); zero in other modes.
	DPoPKey domain.Secret
}

// Discovery is the part of the Authority's metadata the core reads, in the
// Authority's words (it prints sanitised).
type Discovery struct {
	Issuer             domain.Untrusted   `json:"issuer"`
	TokenEndpoint      domain.Untrusted   `json:"tokenEndpoint"`
	RevocationEndpoint domain.Untrusted   `json:"revocationEndpoint,omitempty"`
	UserinfoEndpoint   domain.Untrusted   `json:"userinfoEndpoint,omitempty"`
	DPoPAlgs           []domain.Untrusted `json:"dpopSigningAlgValuesSupported,omitempty"`
	// ServerDate is the Date header of the discovery response (zero when
	// absent) and FetchedAt the local time it arrived: `auth doctor`
	// compares them for clock skew.
	ServerDate time.Time `json:"-"`
	FetchedAt  time.Time `json:"-"`
	// Endpoints lists the endpoints advertised, by stella's name for the
	// metadata member.
	Endpoints []string `json:"-"`
}

// Authority is the OAuth 2.1 / OpenID Connect server.
type Authority interface {
	Discover(ctx context.Context) (Discovery, error)
	ClientCredentials(ctx context.Context, req TokenRequest) (domain.Grant, error)
	Password(ctx context.Context, req TokenRequest, username string, password domain.Secret) (domain.Grant, error)
	Refresh(ctx context.Context, req TokenRequest, refresh domain.Secret) (domain.Grant, error)
	// Revoke revokes one token (RFC 7009). hint is "refresh_token" or
	// "access_token". It reports ok=false without error when the Authority
	// advertises no revocation endpoint, and ErrNotRevocable when it does
	// not revoke tokens of that type.
	Revoke(ctx context.Context, token domain.Secret, hint string) (ok bool, err error)
	UserInfo(ctx context.Context, access domain.Credential) (map[string]any, error)
}

// ProfileAuthorities reaches the Authority of a session stored for another
// profile, configured as that profile says: `logout --all` revokes each
// session's tokens at its own Authority, with its own client. It fails
// when the profile no longer names the session's Authority and client, so
// a token is never sent anywhere else.
type ProfileAuthorities interface {
	AuthorityFor(ctx context.Context, key domain.SessionKey) (Authority, error)
}

// TokenSource hands out valid tokens; the app's TokenManager implements it
// for the transport, which may not import app.
type TokenSource interface {
	// Credential returns a token valid for at least the refresh lead.
	Credential(ctx context.Context) (domain.Credential, error)
	// Renew replaces a token a server rejected, at most once per rejected
	// token even when many requests saw it rejected.
	Renew(ctx context.Context, rejected domain.Credential) (domain.Credential, error)
}

// BackendRequest is one call to a StellaOps backend, relative to BackendUrl.
type BackendRequest struct {
	Method string
	Path   string // may carry a query
	Header http.Header
	Body   io.Reader // nil for none
	// Credential, when set, is used instead of the session's token: a
	// one-shot token (pack approval) that is neither renewed nor stored.
	Credential *domain.Credential
}

// BackendResponse is the backend's answer. The caller closes Body.
type BackendResponse struct {
	Status int
	Header http.Header
	Body   io.ReadCloser
}

// Backend performs authenticated calls through the one transport.
type Backend interface {
	Do(ctx context.Context, req BackendRequest) (BackendResponse, error)
}

// Prompter talks to the person at the terminal. Interactive reports whether
// prompting is allowed at all; when it is not, the other methods return a
// domain.ErrUsage-kind error instead of blocking.
type Prompter interface {
	Interactive() bool
	Secret(ctx context.Context, prompt string) (domain.Secret, error)
	Line(ctx context.Context, prompt string) (string, error)
}

// HTTPBase is the network layer under every request stella makes: TLS roots
// (system plus CaBundleFile), proxies from the environment, the client
// certificate in mTLS mode, connection timeouts. It carries no credentials;
// the authentication adapter and the authenticated transport add those.
type HTTPBase interface {
	http.RoundTripper
}

// AuthorizationResponse is what the Authority sent back to the redirect URI.
type AuthorizationResponse struct {
	Code          domain.Secret
	Issuer        string // the RFC 9207 "iss" parameter
	IssuerPresent bool
}

// Redirect is one open loopback redirect listener (RFC 8252).
type Redirect interface {
	RedirectURI() string
	// StartURL redirects to the authorization URL: it is what is printed
	// and opened, so the request's state and nonce stay out of the terminal.
	StartURL() string
	SetAuthorizationURL(url string)
	// Wait returns the first response carrying the expected state.
	Wait(ctx context.Context) (AuthorizationResponse, error)
	// Finish answers the browser waiting on the callback once the code is
	// exchanged and the ID token checked: nil for success, else the error.
	Finish(err error)
	Close() error
}

// RedirectListener opens a redirect listener before the browser is opened.
type RedirectListener interface {
	Listen(ctx context.Context, port int, expectedState string) (Redirect, error)
}

// Prover makes DPoP session keys (RFC 9449); the proofs are made where
// the headers are built (CredentialHeaders).
type Prover interface {
	// NewKey makes a session key: the private JWK (a secret) and its
	// RFC 7638 thumbprint.
	NewKey() (key domain.Secret, jkt string, err error)
	Thumbprint(key domain.Secret) (string, error)
}

// NonceMemory keeps the latest DPoP-Nonce of each server for this process.
// Seed and Snapshot carry it to and from the session, so the next process
// starts with the nonces this one learnt (SPEC §5).
type NonceMemory interface {
	Get(url string) string
	Put(url, nonce string)
	// Seed adds stored nonces for the origins this process has not heard
	// from itself.
	Seed(nonces []domain.DPoPNonce)
	// Snapshot lists what is known, by origin, with when each value was
	// first seen.
	Snapshot() []domain.DPoPNonce
}

// NonceKeeper is a token source that can keep the process's latest DPoP
// nonces with its session; the transport calls it when a backend sent a
// new one. It never fails the call: keeping nonces is an optimisation.
type NonceKeeper interface {
	KeepNonces(ctx context.Context)
}

// AuthorizationRequest is what the browser sign-in asks the Authority for
// (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1.2.1, RFC 9449 §10).
type AuthorizationRequest struct {
	RedirectURI   string
	State         string
	Nonce         string
	CodeChallenge string // S256 of the verifier
	Scopes        domain.Scopes
	DPoPJKT       string
	Audience      string // RFC 8707 resource indicator, optional
}

// DeviceAuthorization is the Authority's answer to a device request (RFC
// 8628 §3.2); the code and URIs the user is shown are the Authority's text.
type DeviceAuthorization struct {
	DeviceCode              domain.Secret
	UserCode                domain.Untrusted
	VerificationURI         domain.Untrusted
	VerificationURIComplete domain.Untrusted
	ExpiresIn               time.Duration
	Interval                time.Duration
}

// ErrNotRevocable is the Authority saying it does not revoke tokens of
// the type presented (RFC 7009 §2.2.1 unsupported_token_type), as one that
// cannot revoke self-contained access tokens says: the token stays valid
// until it expires, and asking again will not change that.
var ErrNotRevocable = errors.New("unsupported_token_type")

// Errors of one device-flow poll that mean "keep polling" (RFC 8628 §3.5).
var (
	ErrAuthorizationPending = errors.New("authorization_pending")
	ErrSlowDown             = errors.New("slow_down")
)

// InteractiveAuthority is the part of the Authority a person signs in with.
type InteractiveAuthority interface {
	AuthorizationURL(ctx context.Context, req AuthorizationRequest) (string, error)
	ExchangeCode(ctx context.Context, req TokenRequest, code, verifier domain.Secret, redirectURI, nonce string) (domain.Grant, error)
	// CheckIssuer checks an authorization response's iss (RFC 9207).
	CheckIssuer(ctx context.Context, iss string, present bool) error
	StartDevice(ctx context.Context, req TokenRequest) (DeviceAuthorization, error)
	// PollDevice makes one token request; ErrAuthorizationPending and
	// ErrSlowDown (wrapped) mean poll again.
	PollDevice(ctx context.Context, req TokenRequest, deviceCode domain.Secret) (domain.Grant, error)
}

// Browser opens a URL for the person at this machine.
type Browser interface {
	// CanOpen says whether a browser can be opened here, and why not.
	CanOpen() (bool, string)
	Open(ctx context.Context, url string) error
}

// Random gives unguessable values: state, nonce, PKCE verifier.
type Random interface {
	// Token returns n random bytes, base64url-encoded without padding.
	Token(n int) (string, error)
}

// Sleeper waits; the device poller uses it so tests need not.
type Sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

// Console tells the person at the terminal what to do and how it goes.
type Console interface {
	// Say prints one line on stderr.
	Say(line string)
	// Progress replaces the current status line on a terminal, and prints
	// it as a plain line (rarely) otherwise.
	Progress(line string)
	// Done ends a progress line.
	Done()
}

// ClientCertificate is the TLS client certificate of AuthMode mtls.
type ClientCertificate interface {
	// Thumbprint is its RFC 8705 x5t#S256; an error when none is configured.
	Thumbprint() (string, error)
}

// Stream is an open backend message stream (a WebSocket).
type Stream interface {
	// Read returns the next message; io.EOF when the server closed normally.
	Read(ctx context.Context) ([]byte, error)
	Close() error
}

// StreamAuth is what opens a stream: an ephemeral stream token, or else
// the session's credential.
type StreamAuth struct {
	Token      domain.Secret
	Credential domain.Credential
}

// Streamer opens streams relative to BackendUrl.
type Streamer interface {
	Open(ctx context.Context, path string, auth StreamAuth) (Stream, error)
}

// StreamRefused is a refused WebSocket upgrade: the caller maps the
// answer like any other backend error.
type StreamRefused struct {
	Status int
	Header http.Header
	Body   []byte
}

func (e *StreamRefused) Error() string { return "stream refused: " + http.StatusText(e.Status) }

// SharedCache is a session store shared by a fleet of hosts (TokenStorage:
// redis). `auth status` and `auth doctor` describe it; they find it by a
// type assertion on the SessionStore, as they find a Quarantiner.
type SharedCache interface {
	// Describe looks at the cache for key's client (bounded by a short
	// timeout): where it is, whether it answers, this client's entry and
	// who holds its lock.
	Describe(ctx context.Context, key domain.SessionKey) SharedCacheState
}

// SharedCacheInspector is the StorageInspector's view of a shared cache
// for `auth doctor`; ok is false when the storage is not shared.
type SharedCacheInspector interface {
	SharedCache(ctx context.Context) (state SharedCacheState, ok bool)
}

// SharedCacheState is what Describe found. Text in it is already made
// printable.
type SharedCacheState struct {
	Location   string        `json:"location"` // the URL without its password
	Mode       string        `json:"mode"`     // standalone, sentinel, cluster
	Reachable  bool          `json:"reachable"`
	Problem    string        `json:"problem,omitempty"` // why it is not reachable or usable
	Entry      bool          `json:"entry"`             // this client's entry exists
	EntryAge   time.Duration `json:"-"`                 // since its token was issued
	EntryTTL   time.Duration `json:"-"`                 // until the cache drops it
	EntryError string        `json:"entryError,omitempty"`
	LockHolder string        `json:"lockHolder,omitempty"` // who is getting a new token now
	Bypassed   string        `json:"bypassed,omitempty"`   // why this process went without it
}
