package domain

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AuthMode is how tokens are bound to the client (SPEC §3.9).
type AuthMode string

const (
	AuthModeBearer AuthMode = "bearer"
	AuthModeDPoP   AuthMode = "dpop"
	AuthModeMTLS   AuthMode = "mtls"
)

// ParseAuthMode accepts the documented spellings, case-insensitively.
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.ToLower(strings.TrimSpace(s))); m {
	case AuthModeBearer, AuthModeDPoP, AuthModeMTLS:
		return m, nil
	}
	return "", E(KindUsage, fmt.Sprintf("unknown auth mode %q", s), "Use one of: bearer, dpop, mtls.")
}

// StorageKind is where sessions are kept (SPEC §5).
type StorageKind string

const (
	StorageAuto     StorageKind = "auto"
	StorageKeychain StorageKind = "keychain"
	StorageFile     StorageKind = "file"
	StorageMemory   StorageKind = "memory"

	// StorageRedis shares client-credential sessions across a fleet of
	// hosts through Redis or Valkey (TokenCacheUrl), sealed with a key
	// derived from the client's own credential.
	StorageRedis StorageKind = "redis"
)

// ParseStorageKind accepts the documented spellings, case-insensitively.
func ParseStorageKind(s string) (StorageKind, error) {
	switch k := StorageKind(strings.ToLower(strings.TrimSpace(s))); k {
	case StorageAuto, StorageKeychain, StorageFile, StorageMemory, StorageRedis:
		return k, nil
	}
	return "", E(KindUsage, fmt.Sprintf("unknown token storage %q", s), "Use one of: auto, keychain, file, memory, redis.")
}

// SourceKind says where a setting's value came from.
type SourceKind string

const (
	SourceFlag    SourceKind = "flag"
	SourceEnv     SourceKind = "env"
	SourceProfile SourceKind = "profile"
	SourceConfig  SourceKind = "config"
	SourceDefault SourceKind = "default"
)

// Source is the provenance of one setting: the kind and a detail such as
// "--authority", "STELLA_SCOPE" or "/home/me/.stellaops/profiles/ci.yaml:4".
type Source struct {
	Kind   SourceKind `json:"kind"`
	Detail string     `json:"detail,omitempty"`
}

func (s Source) String() string {
	if s.Detail == "" {
		return string(s.Kind)
	}
	return string(s.Kind) + " " + s.Detail
}

// Setting is one effective value for display: secrets are already redacted.
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source Source `json:"source"`
}

// Settings is the resolved configuration of one invocation.
type Settings struct {
	Profile       string     // empty: no profile selected
	ProfileSource SourceKind // how it was selected: flag, env, config (the active profile) or default
	ConfigDir     string

	AuthorityURL     string
	ClientID         string
	ClientSecret     Secret
	ClientSecretFile string
	Scopes           Scopes // Scope: replaces the default set
	AddScopes        Scopes // AddScope: added to Scope or the default set
	Audience         string
	AuthMode         AuthMode
	TokenStorage     StorageKind
	TokenCacheDir    string
	ClientCertFile   string
	ClientKeyFile    string
	CABundleFile     string
	Username         string
	Password         Secret
	BackendURL       string
	CachePassphrase  Secret
	Browser          string
	// KeyCacheTTL is how long the kernel keyring may keep the key that
	// opens the file store (SPEC §5); 0 turns the key cache off.
	KeyCacheTTL time.Duration

	// TokenCacheURL is the shared fleet cache of TokenStorage: redis, with
	// any password taken out of it into TokenCachePassword.
	TokenCacheURL      string
	TokenCachePassword Secret

	RequestTimeout time.Duration // every HTTP request
	WaitTimeout    time.Duration // browser and device sign-in waits
	NonInteractive bool
	Verbose        int
	JSON           bool

	// Effective lists every setting with its value (secrets redacted) and
	// where it came from, in display order.
	Effective []Setting
}

// WantedScopes is the scope set to ask for (SPEC §2): Scope, or for a
// person's sign-in the default set, plus AddScope. Client credentials have
// no default: the Authority's applies.
func (s Settings) WantedScopes(person bool) Scopes {
	base := s.Scopes
	if len(base) == 0 && person {
		base = PersonScopes
	}
	return base.Union(s.AddScopes)
}

// ConfiguredScopes is what the user asked for explicitly (Scope and
// AddScope), without defaults.
func (s Settings) ConfiguredScopes() Scopes { return s.Scopes.Union(s.AddScopes) }

// From says where a setting's value came from, for messages: " (from
// profile /…/ops.yaml:7)", " (from env STELLA_CLIENT_CERT)"; empty for a
// default or an unknown key.
func (s Settings) From(key string) string {
	for _, e := range s.Effective {
		if e.Key == key && e.Source.Kind != SourceDefault {
			return " (from " + e.Source.String() + ")"
		}
	}
	return ""
}

// HasClientSecret reports whether a confidential client secret is configured.
func (s Settings) HasClientSecret() bool { return !s.ClientSecret.IsZero() }

// ProfileName is the profile for display and session keys.
func (s Settings) ProfileName() string {
	if s.Profile == "" {
		return "default"
	}
	return s.Profile
}

// SessionKey is the key of this configuration's session.
func (s Settings) SessionKey() SessionKey {
	return SessionKey{Profile: s.ProfileName(), Issuer: s.AuthorityURL, ClientID: s.ClientID}
}

// RequireAuthority checks what every Authority-bound command needs.
func (s Settings) RequireAuthority() error {
	if s.AuthorityURL == "" {
		return E(KindUsage, "no Authority URL is configured",
			"Set STELLA_AUTHORITY_URL, pass --authority, or set StellaOps.Authority.Url in a profile.")
	}
	if s.ClientID == "" {
		return E(KindUsage, "no client id is configured",
			"Set STELLA_CLIENT_ID, pass --client-id, or set StellaOps.Authority.ClientId in a profile.")
	}
	return nil
}

// RequireBackend checks what every backend command needs.
func (s Settings) RequireBackend() error {
	if s.BackendURL == "" {
		return E(KindUsage, "no backend URL is configured",
			"Set STELLA_BACKEND_URL, pass --backend, or set StellaOps.BackendUrl in a profile.")
	}
	return nil
}

// ValidateServerURL enforces SPEC §6: an absolute http(s) URL without user
// info, query or fragment, and https unless the host is loopback. what names
// the setting in the message ("Authority URL").
func ValidateServerURL(what, raw string) (*url.URL, error) {
	if len(raw) > 2048 {
		return nil, E(KindUsage, what+" is longer than 2048 characters", "Check the value; URLs of that length are not valid here.")
	}
	u, err := url.Parse(raw)
	shown := RedactURL(raw) // a password in a URL is still a password
	bad := func(why string) error {
		return E(KindUsage, fmt.Sprintf("%s %q %s", what, shown, why),
			"Use an absolute URL such as https://authority.example.com.")
	}
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, bad("is not an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, bad("must not carry credentials")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("has no valid port (1-65535)")
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, bad("must not have a query or fragment")
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, E(KindUsage, fmt.Sprintf("%s %q uses plain http on a non-loopback host", what, shown),
			"Use https; plain http is allowed only for 127.0.0.1, ::1 and localhost.")
	}
	return u, nil
}

// IsLoopbackHost reports whether host names this machine.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidatePlanHash checks a pack plan hash: sha256: and 64 lower-case hex
// digits (SPEC §3.10).
func ValidatePlanHash(h string) error {
	if len(h) != 71 || !strings.HasPrefix(h, "sha256:") {
		return E(KindUsage, fmt.Sprintf("plan hash %q is not sha256:<64 hex digits>", Printable(h, 80)),
			"Copy the plan hash from the pack run, e.g. sha256:5f0c…7b6c (71 characters).")
	}
	for _, c := range h[7:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return E(KindUsage, fmt.Sprintf("plan hash %q is not sha256:<64 hex digits>", Printable(h, 80)),
				"Use lower-case hexadecimal digits after sha256:.")
		}
	}
	return nil
}
