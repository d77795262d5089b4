// Package authority is the development Authority: a standards-strict,
// loopback-only OAuth 2.1 / OpenID Connect server with StellaOps backend
// routes, used by stella's test suites and `make demo`. It is test
// infrastructure. It imports nothing of the client, so it cannot agree with
// the client's bugs: it verifies with its own code on go-jose and the
// standard library.
package authority

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config is what a test or `go run ./tools/devauthority` can change.
type Config struct {
	TokenTTL          time.Duration
	RefreshTTL        time.Duration
	RotateRefresh     bool
	ClientAuthMethods []string // advertised and accepted: client_secret_basic, client_secret_post
	Issuer            string   // advertised issuer override, to simulate a mismatch
	RequireDPoPNonce  bool     // demand server nonces in DPoP proofs (RFC 9449 §8, §9)
	DPoPNonceRotate   time.Duration
	AutoApprove       bool          // approve browser and device sign-ins without a person
	DeviceInterval    time.Duration // RFC 8628 polling interval
	DeviceTTL         time.Duration // device code lifetime
	TLS               bool          // serve https with a self-signed certificate, binding tokens to client certificates (RFC 8705)
	TLSCertOut        string        // where to write the server certificate (PEM) for clients to trust
	IDTokenFault      string        // one of idTokenFaults: lie in one precise way, for relying-party tests
	DateSkew          time.Duration // shift the Date header of the discovery document (clock-skew checks)
	HostileText       bool          // put terminal escapes, bidi overrides and shell syntax in every text a client shows
	Quirks            []string      // other Authorities' documented behaviours, see quirks
	// Now is the clock every expiry is decided by: tokens, codes, device
	// grants, stream tokens, DPoP proof windows and nonces. Tests move it
	// forward to cross a lifetime without waiting (nil: time.Now).
	Now func() time.Time
}

// DefaultConfig is the configuration of a plain `devauthority`.
func DefaultConfig() Config {
	return Config{TokenTTL: time.Hour, RefreshTTL: 24 * time.Hour, RotateRefresh: true,
		ClientAuthMethods: []string{"client_secret_basic", "client_secret_post"}, DPoPNonceRotate: 5 * time.Minute,
		DeviceInterval: 5 * time.Second, DeviceTTL: 10 * time.Minute}
}

// BindFlags registers the command-line flags on fs.
func BindFlags(fs *flag.FlagSet, c *Config) {
	fs.DurationVar(&c.TokenTTL, "token-ttl", c.TokenTTL, "access token lifetime")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", c.RefreshTTL, "refresh token lifetime")
	fs.BoolVar(&c.RotateRefresh, "rotate-refresh", c.RotateRefresh, "rotate refresh tokens, with reuse detection that revokes the family")
	fs.Func("client-auth-methods", "comma-separated client authentication methods (client_secret_basic,client_secret_post)", func(s string) error {
		c.ClientAuthMethods = nil
		for _, m := range strings.Split(s, ",") {
			switch m = strings.TrimSpace(m); m {
			case "client_secret_basic", "client_secret_post":
				c.ClientAuthMethods = append(c.ClientAuthMethods, m)
			default:
				return fmt.Errorf("unknown client authentication method %q", m)
			}
		}
		return nil
	})
	fs.StringVar(&c.Issuer, "issuer", c.Issuer, "advertise this issuer instead of the real URL (to test issuer checks)")
	fs.BoolVar(&c.RequireDPoPNonce, "require-dpop-nonce", c.RequireDPoPNonce, "require server-provided nonces in DPoP proofs")
	fs.DurationVar(&c.DPoPNonceRotate, "dpop-nonce-rotate", c.DPoPNonceRotate, "how often the DPoP nonce changes")
	fs.BoolVar(&c.AutoApprove, "auto-approve", c.AutoApprove, "approve browser and device sign-ins without showing the consent page")
	fs.DurationVar(&c.DeviceInterval, "device-interval", c.DeviceInterval, "device flow polling interval (whole seconds on the wire)")
	fs.DurationVar(&c.DeviceTTL, "device-ttl", c.DeviceTTL, "device code lifetime")
	fs.BoolVar(&c.TLS, "tls", c.TLS, "serve https with a self-signed certificate and bind tokens to client certificates (mTLS, RFC 8705)")
	fs.StringVar(&c.TLSCertOut, "tls-cert-out", c.TLSCertOut, "write the -tls server certificate (PEM) to this file")
	fs.DurationVar(&c.DateSkew, "date-skew", c.DateSkew, "shift the Date header of the discovery response, as a server with a wrong clock would")
	fs.BoolVar(&c.HostileText, "hostile-text", c.HostileText, "put terminal escape sequences, bidi overrides and shell syntax into claims, device codes and URIs, metadata, error descriptions and challenges")
	fs.Func("quirks", "comma-separated behaviours of other Authorities: "+quirkList(), func(v string) error {
		c.Quirks = nil
		for _, q := range strings.Split(v, ",") {
			q = strings.TrimSpace(q)
			if _, ok := quirks[q]; !ok {
				return fmt.Errorf("unknown quirk %q (known: %s)", q, quirkList())
			}
			c.Quirks = append(c.Quirks, q)
		}
		return nil
	})
	fs.StringVar(&c.IDTokenFault, "id-token-fault", c.IDTokenFault, "make ID tokens (or iss, userinfo) wrong in one way, for relying-party tests")
}

// client is a registered OAuth client.
type client struct {
	id     string
	secret string // empty: public
	grants []string
	scopes []string
}

// user is the one resource owner.
type user struct {
	name, password, display, tenant, email string
}

var (
	clients = map[string]client{
		"stella-cli": {id: "stella-cli", grants: []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code", "refresh_token", "password"},
			scopes: []string{"openid", "profile", "offline_access", "packs.read", "packs.run", "packs.approve"}},
		"stella-ci":     {id: "stella-ci", secret: "stella-ci-secret", grants: []string{"client_credentials"}, scopes: []string{"packs.read", "packs.run"}},
		"pack-approver": {id: "pack-approver", secret: "pack-approver-secret", grants: []string{"client_credentials"}, scopes: []string{"packs.read", "packs.approve"}},
	}
	operator = user{name: "operator", password: "operator", display: "Olivia Operator", tenant: "acme", email: "operator@acme.example"}
)

// StaticSecrets are the built-in credentials, for leak checks.
func StaticSecrets() []string {
	return []string{clients["stella-ci"].secret, clients["pack-approver"].secret}
}

// Server is one development Authority.
type Server struct {
	cfg Config
	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	issuer   string
	ln       net.Listener
	srv      *http.Server
	tokens   *tokenStore
	dpop     *dpopState
	inter    *interactive
	certPEM  []byte
	rot      *rotatedKey
	ws       *wsTokens
	runs     *runs
	stats    *stats
	faults   faults
	reqSeq   int
	received map[string]bool // secrets received from clients, for leak checks
	usedJTIs map[string]bool // access tokens the backend saw, under the singleUseTokens fault
}

// New prepares a server; Start listens.
func New(cfg Config) (*Server, error) {
	if cfg.TokenTTL <= 0 || cfg.RefreshTTL <= 0 {
		return nil, errors.New("token and refresh lifetimes must be positive")
	}
	if _, ok := idTokenFaults[cfg.IDTokenFault]; cfg.IDTokenFault != "" && !ok {
		return nil, errors.New("unknown -id-token-fault " + cfg.IDTokenFault)
	}
	if len(cfg.ClientAuthMethods) == 0 {
		cfg.ClientAuthMethods = DefaultConfig().ClientAuthMethods
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, key: key, kid: randomString(8), tokens: newTokenStore(), dpop: newDPoPState(), inter: newInteractive(), runs: newRuns(), ws: newWSTokens(), stats: newStats(),
		received: map[string]bool{}}, nil
}

// Start listens on addr, which must be a loopback address, and returns the
// issuer URL.
func (s *Server) Start(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("the development Authority listens on loopback only, not %s", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	scheme := "http"
	if s.cfg.TLS {
		conf, err := s.serverTLS()
		if err != nil {
			_ = ln.Close()
			return "", err
		}
		ln, scheme = tls.NewListener(ln, conf), "https"
	}
	s.mu.Lock()
	s.ln = ln
	s.issuer = scheme + "://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.mu.Unlock()
	go func() { _ = s.srv.Serve(ln) }()
	return s.issuer, nil
}

// Close stops the server.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// URL is the issuer URL (the real one, whatever -issuer advertises).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuer
}

func (s *Server) advertisedIssuer() string {
	if s.cfg.Issuer != "" {
		return s.cfg.Issuer
	}
	return s.URL()
}

// Secrets lists every credential this server issued or received: tokens,
// client secrets, passwords. A client that prints any of them leaks.
func (s *Server) Secrets() []string {
	out := s.tokens.all()
	s.mu.Lock()
	for v := range s.received {
		out = append(out, v)
	}
	s.mu.Unlock()
	return out
}

func (s *Server) remember(secret string) {
	if secret == "" {
		return
	}
	s.mu.Lock()
	s.received[secret] = true
	s.mu.Unlock()
}

// Handler routes every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /authorize", s.authorizeGet)
	mux.HandleFunc("POST /authorize", s.authorizePost)
	mux.HandleFunc("POST /device_authorization", s.deviceAuthorization)
	mux.HandleFunc("GET /device", s.devicePage)
	mux.HandleFunc("POST /device", s.deviceSubmit)
	mux.HandleFunc("POST /admin/device", s.adminDevice)
	mux.HandleFunc("POST /admin/runs", s.adminRuns)
	mux.HandleFunc("POST /api/v1/ws-token", s.resource("", s.wsToken))
	mux.HandleFunc("GET /api/v1/jobs/{id}/events", s.jobEvents)
	mux.HandleFunc("POST /api/v1/packs/runs/{run}/gates/{gate}/approve", s.resource("packs.approve", s.approve2))
	mux.HandleFunc("POST /revoke", s.revoke)
	mux.HandleFunc("POST /introspect", s.introspect)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	mux.HandleFunc("POST /userinfo", s.userinfo)
	mux.HandleFunc("GET /api/v1/me", s.resource("", s.me))
	mux.HandleFunc("/api/v1/echo", s.resource("", s.echo))
	mux.HandleFunc("GET /api/v1/jobs", s.resource("packs.read", s.listJobs))
	mux.HandleFunc("POST /api/v1/jobs", s.resource("packs.run", s.createJob))
	mux.HandleFunc("GET /admin/stats", s.getStats)
	mux.HandleFunc("POST /admin/stats/reset", s.resetStats)
	mux.HandleFunc("GET /admin/faults", s.getFaults)
	mux.HandleFunc("POST /admin/faults", s.setFaults)
	mux.HandleFunc("POST /admin/revoke-all", s.revokeAll)
	mux.HandleFunc("POST /admin/forget-dpop-nonces", s.forgetNonces)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not Found", "no route "+r.Method+" "+r.URL.Path, nil)
	})
	return s.count(mux)
}

// count records per-endpoint statistics and applies latency faults.
func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/") {
			s.stats.endpoint(r.URL.Path)
			if d := s.latency(); d > 0 {
				time.Sleep(d)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
