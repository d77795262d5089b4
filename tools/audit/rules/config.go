// Package rules is stella's architecture checker: a type-aware
// go/analysis analyzer that keeps the hexagon's layers apart and the raw
// credentials inside the authentication adapter (ARCHITECTURE.md
// "Dependency rules", SPEC §6). It is configured by a Go value, not text
// patterns, so a rule is changed where it is reviewed.
package rules

// Config is what the analyzer enforces. Package paths are relative to
// Module ("adapters/auth"); a trailing "/..." matches sub-packages.
type Config struct {
	Module string

	// Layers.
	Domain, Ports, App, Adapters, Root string
	// AppFxFile is the one file of App that may import fx.
	AppFxFile string
	FxPath    string
	// SharedTestAdapters may be imported by other adapters' _test files
	// (contract suites).
	SharedTestAdapters []string
	// Isolated packages may import nothing of the client: the development
	// Authority must not agree with the client's bugs.
	Isolated []string
	// Exempt packages are test infrastructure outside the layer rules.
	Exempt []string

	// RawTokenType and PasswordGrant are the raw credential API of the
	// OAuth library; only RawCredentialOwner may touch them.
	RawTokenPkg, RawTokenName, PasswordGrantMethod string
	RawCredentialOwner                             string
	// KeyringPath may be imported only by KeyringOwner.
	KeyringPath, KeyringOwner string
	// CredentialFieldSuffixes name string fields that would hold a secret
	// in the clear; CredentialFieldAllowed are names that merely look so.
	CredentialFieldSuffixes []string
	CredentialFieldAllowed  []string

	// RevealFuncs (pkg-relative "Type.Method" or "Func" in Domain) may be
	// called only from RevealAllowed packages (and Domain itself).
	RevealFuncs   []string
	RevealAllowed []string

	// HTTPClientAllowed packages may construct http.Client/Transport.
	HTTPClientAllowed []string

	// ExitAllowedFile is the one file that may call os.Exit.
	ExitAllowedFile string
}

// Default is stella's configuration.
func Default() Config {
	return Config{
		Module:             "github.com/stellaops/stella",
		Domain:             "domain",
		Ports:              "ports",
		App:                "app",
		Adapters:           "adapters",
		Root:               "cmd/stella",
		AppFxFile:          "module.go",
		FxPath:             "go.uber.org/fx",
		SharedTestAdapters: []string{"adapters/storetest"},
		Isolated:           []string{"tools/devauthority/..."},
		Exempt:             []string{"tools/...", "testscripts/..."},

		RawTokenPkg:         "golang.org/x/oauth2",
		RawTokenName:        "Token",
		PasswordGrantMethod: "PasswordCredentialsToken",
		RawCredentialOwner:  "adapters/auth",
		KeyringPath:         "github.com/zalando/go-keyring",
		KeyringOwner:        "adapters/keychain",
		CredentialFieldSuffixes: []string{"password", "passwd", "secret", "accesstoken", "refreshtoken", "idtoken", "token",
			"passphrase", "privatekey", "verifier", "authcode", "devicecode"},
		CredentialFieldAllowed: []string{"TokenType", "TokenCacheDir", "TokenCacheDirectory", "ClientSecretFile", "TokenStorage",
			"TokenEndpoint", "PasswordFile", "SecretFile"},

		RevealFuncs:   []string{"Secret.Reveal", "EncodeSession"},
		RevealAllowed: []string{"adapters/auth", "adapters/transport", "adapters/dpop", "adapters/filestore", "adapters/keychain", "cmd/stella"},

		HTTPClientAllowed: []string{"adapters/transport", "adapters/auth"},
		ExitAllowedFile:   "cmd/stella/main.go",
	}
}
